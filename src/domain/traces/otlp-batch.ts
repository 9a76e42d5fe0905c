import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { classifyDbError } from '../../db/faults.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { GroupCommit } from '../../lib/group-commit.js';
import { nullableTextArray, numberArray, textArray } from '../../lib/pg-array.js';
import { proxyStore } from '../artifacts.js';
import { activeExperimentRoot } from '../experiments.js';
import { sessionAndUser } from './otlp-trace-fields.js';
import { spanRowsUpsert } from './span-rows.js';
import { MAX_SPANS_BYTES, storedSpans, traceDataKey, type SpanRecord } from './spans.js';
import { lockTraceWrites, trackSpansInFlight } from './spans-in-flight.js';
import { usageMetadata } from './usage.js';
import { keyValuePairs, keyValueText, SOURCE_RUN_METADATA, TRACE_NAME_TAG } from './wire.js';
import { traceKeyValueUpsert } from './write.js';

// Storing OTLP requests by group commit: the requests that arrive while one write is under way are
// written together by the next, in one transaction of a fixed number of statements whatever their
// count (one advisory-lock statement, one locking read, one multi-row upsert per table), their
// traces.json blobs written concurrently before the commit. Each request is still all or nothing:
// a request the rules refuse (unknown experiment, a trace of another experiment, too many spans) is
// left out of the write and answered its own error, and the others commit without it. Requests
// for one trace in one batch merge in arrival order, as they would one after the other.

export const MAX_SPANS_PER_TRACE = 10_000;
const MAX_PREVIEW = 1000;
const MAX_BATCH_REQUESTS = 256;
const MAX_BATCH_SPANS = 20_000;
const BLOB_CONCURRENCY = 16;

export const otlpInvalid = (why: string) => invalidParam(`Invalid OpenTelemetry format: ${why}`);

/** One checked OTLP request: its spans by MLflow trace id, for one experiment. */
export interface OtlpWrite {
  experimentId: number;
  shownExperiment: string;
  runId: string | undefined;
  byTrace: Map<string, SpanRecord[]>;
  /** Tags from the request's resource and root spans, by trace (otlp-trace-fields.ts). */
  tags?: Map<string, Map<string, string>>;
  spanCount: number;
}

// One committer per Deps (per server): a cache of in-flight work, safe to lose with the process.
const committers = new WeakMap<Deps, GroupCommit<OtlpWrite>>();

/** Stores a request's spans; resolves once they are committed. */
export function submitOtlp(deps: Deps, write: OtlpWrite): Promise<void> {
  let committer = committers.get(deps);
  if (!committer) {
    committer = new GroupCommit<OtlpWrite>({
      write: (items) => writeOtlpBatch(deps, items),
      maxItems: MAX_BATCH_REQUESTS,
      // Two writes overlap one's database round trips with the other's blob writes. Requests of two
      // writes in flight together were in flight together too, so neither order is wrong; the
      // advisory locks order their work on a shared trace.
      concurrency: 2,
      maxWeight: MAX_BATCH_SPANS,
      weight: (w) => w.spanCount,
      isOutage: (err) => classifyDbError(err)?.kind === 'unavailable' || (err instanceof MlflowError && err.code === 'TEMPORARILY_UNAVAILABLE'),
    });
    committers.set(deps, committer);
  }
  const stored = committer.submit(write);
  trackSpansInFlight(deps, write.byTrace.keys(), stored);
  return stored;
}

const ms = (ns: string) => Number(BigInt(ns) / 1_000_000n);

function preview(attr: string | undefined): string | null {
  if (attr === undefined) return null;
  return attr.length > MAX_PREVIEW ? attr.slice(0, MAX_PREVIEW) : attr;
}

/** Trace info derived from all of a trace's spans: the root span (no parent) decides state and duration. */
function traceInfoOf(spans: SpanRecord[]) {
  const root = spans.find((s) => s.parent_span_id === null);
  let start = BigInt(spans[0].start_time_unix_nano);
  for (const s of spans) {
    const t = BigInt(s.start_time_unix_nano);
    if (t < start) start = t;
  }
  const rootEnd = root?.end_time_unix_nano;
  return {
    requestTime: Number(start / 1_000_000n),
    duration: root && rootEnd ? Math.max(0, ms(rootEnd) - ms(root.start_time_unix_nano)) : null,
    // Without its root the trace is still being received.
    state: !root ? 'IN_PROGRESS' : root.status.code === 'STATUS_CODE_ERROR' ? 'ERROR' : 'OK',
    name: root?.name,
    requestPreview: preview(root?.attributes['mlflow.spanInputs']),
    responsePreview: preview(root?.attributes['mlflow.spanOutputs']),
  };
}

/** A trace as this batch will leave it. */
interface TraceState {
  experimentId: number;
  artifactLocation: string;
  /** The traces.json key; undefined when the trace's folder is outside Cairn's store. */
  key: string | undefined;
  /** Why the stored spans could not be read (the request touching it is refused with it). */
  unreadable?: MlflowError;
  spans: Map<string, SpanRecord>;
  runId?: string;
  /** A stored trace's tags and metadata (traces.tags_json / metadata_json), which this batch adds to; none for a new trace. */
  stored?: { tags: [string, string][]; metadata: [string, string][] };
  /** A client's StartTraceV3 stored its info (traces.info_final): the spans are added, its info and name left. */
  final?: boolean;
  /** A trace stored before span rows were kept (traces.spans_indexed false): this batch writes a row for each of its spans. */
  unindexed?: boolean;
  /** The spans this batch merged, whose rows it writes. */
  merged: Set<string>;
  /** Tags this batch's requests carried for the trace (besides its name), in arrival order. */
  addedTags?: Map<string, string>;
  touched: boolean;
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Experiment roots by id, or the error that refuses writes into each. */
async function experimentRoots(tx: Orm, items: OtlpWrite[]): Promise<Map<number, string | MlflowError>> {
  const out = new Map<number, string | MlflowError>();
  for (const item of items) {
    if (out.has(item.experimentId)) continue;
    try {
      out.set(item.experimentId, await activeExperimentRoot(tx, item.experimentId, item.shownExperiment));
    } catch (err) {
      if (!(err instanceof MlflowError)) throw err;
      out.set(item.experimentId, err);
    }
  }
  return out;
}

/** Locks the traces (stored or not) and loads those stored, with their spans. */
async function lockedTraces(deps: Deps, tx: Orm, traceIds: string[]): Promise<Map<string, TraceState>> {
  // Two writers of a trace not yet stored find no row to lock: the advisory lock orders them, so
  // neither writes traces.json from its own spans alone.
  await lockTraceWrites(tx, traceIds);
  const found = await rows<{ trace_id: string; experiment_id: string | number; artifact_location: string; tags_json: string | null; metadata_json: string | null; info_final: boolean; spans_indexed: boolean }>(tx, sql`
    select trace_id, experiment_id, artifact_location, tags_json, metadata_json, info_final, spans_indexed from traces where trace_id = any(${textArray(traceIds)}::text[])
    order by trace_id for update`);
  const out = new Map<string, TraceState>();
  await forEachLimited(found, BLOB_CONCURRENCY, async (row) => {
    const state: TraceState = {
      experimentId: Number(row.experiment_id), artifactLocation: row.artifact_location,
      key: traceDataKey(row.artifact_location), spans: new Map(), touched: false, merged: new Set(),
      stored: { tags: keyValuePairs(row.tags_json), metadata: keyValuePairs(row.metadata_json) }, final: row.info_final,
      unindexed: !row.spans_indexed,
    };
    if (state.key !== undefined) {
      try {
        for (const s of await storedSpans(deps, state.key)) state.spans.set(s.span_id, s);
      } catch (err) {
        if (!(err instanceof MlflowError) || err.code === 'TEMPORARILY_UNAVAILABLE') throw err;
        state.unreadable = err;
      }
    }
    out.set(row.trace_id, state);
  });
  return out;
}

/** Why a request cannot be merged into the traces as they stand, if it cannot. */
function refusal(item: OtlpWrite, root: string, traces: Map<string, TraceState>): MlflowError | undefined {
  for (const [traceId, spans] of item.byTrace) {
    const t = traces.get(traceId);
    if (t && t.experimentId !== item.experimentId) return invalidParam(`Trace ${traceId} already exists in another experiment`);
    if (t?.unreadable) return t.unreadable;
    const location = t?.artifactLocation ?? `${root}/traces/${traceId}/artifacts`;
    if ((t ? t.key : traceDataKey(location)) === undefined) {
      // In the phrase the mlflow client's exporter looks for: it stops offering spans one by one and
      // uploads each trace's traces.json to that location itself.
      return new MlflowError('NOT_IMPLEMENTED', `REST OTLP span logging is not supported for this experiment: OTLP ingestion needs its artifacts in Cairn's store; trace location is ${location}`);
    }
    const added = new Set(spans.map((s) => s.span_id).filter((id) => !t?.spans.has(id))).size;
    if ((t?.spans.size ?? 0) + added > MAX_SPANS_PER_TRACE) return otlpInvalid(`more than ${MAX_SPANS_PER_TRACE} spans in trace ${traceId}`);
  }
  return undefined;
}

function merge(item: OtlpWrite, root: string, traces: Map<string, TraceState>): void {
  for (const [traceId, spans] of item.byTrace) {
    let t = traces.get(traceId);
    if (!t) {
      const artifactLocation = `${root}/traces/${traceId}/artifacts`;
      t = { experimentId: item.experimentId, artifactLocation, key: traceDataKey(artifactLocation), spans: new Map(), touched: false, merged: new Set() };
      traces.set(traceId, t);
    }
    for (const s of spans) {
      t.spans.set(s.span_id, s);
      t.merged.add(s.span_id);
    }
    // As one request after another: a later request's run id replaces an earlier one; none keeps it.
    if (item.runId) t.runId = item.runId.slice(0, 8000);
    for (const [k, v] of item.tags?.get(traceId) ?? []) (t.addedTags ??= new Map()).set(k, v);
    t.touched = true;
  }
}

/**
 * Spans in the order they started, as the client writes traces.json (spans logged one by one arrive
 * as they end: children first). Times are decimal nanoseconds without leading zeros.
 */
export const byStart = (a: SpanRecord, b: SpanRecord): number => {
  const x = String(a.start_time_unix_nano), y = String(b.start_time_unix_nano);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
};

/** Writes a batch of requests in one transaction; answers each request's outcome, in order. */
export async function writeOtlpBatch(deps: Deps, items: OtlpWrite[]): Promise<(Error | undefined)[]> {
  const outcomes: (Error | undefined)[] = items.map(() => undefined);
  await deps.db.transaction(async (tx) => {
    const roots = await experimentRoots(tx, items);
    const live = items.map((item, i) => ({ item, i, root: roots.get(item.experimentId)! })).filter(({ i, root }) => {
      if (root instanceof MlflowError) outcomes[i] = root;
      return !(root instanceof MlflowError);
    });
    if (!live.length) return;
    const traceIds = [...new Set(live.flatMap(({ item }) => [...item.byTrace.keys()]))].sort();
    const traces = await lockedTraces(deps, tx, traceIds);
    for (const { item, i, root } of live) {
      const refused = refusal(item, root as string, traces);
      if (refused) outcomes[i] = refused;
      else merge(item, root as string, traces);
    }
    const written = [...traces].filter(([, t]) => t.touched);
    if (!written.length) return;
    // The blobs are written while the rows are, inside the transaction: if one fails, no row of the
    // batch commits (and no request of it is acknowledged). Both are waited for before the rollback,
    // so no write of a failed batch lands after a retry's.
    const bodies = new Map(written.map(([id, t]) => [id, Buffer.from(JSON.stringify({ spans: [...t.spans.values()].sort(byStart) }))]));
    const settled = await Promise.allSettled([
      upsertRows(tx, written, bodies),
      forEachLimited(written, BLOB_CONCURRENCY, async ([id, t]) => proxyStore(deps).put(t.key!, bodies.get(id)!, 'application/json')),
    ]);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
  });
  return outcomes;
}

/**
 * The name this batch gives a trace (a tag value's limit): its root span's, unless it has none or
 * its StartTraceV3 named it already.
 */
const nameOf = (t: TraceState, info: { name?: string }): string | undefined => (info.name && !t.final ? info.name.slice(0, 8000) : undefined);

/**
 * The trace rows, their name tags, their metadata and the rows of the spans merged (span-rows.ts),
 * in one statement (each a multi-row upsert; a round trip less is a batch's time shorter under
 * load: docs/bench.md, "OTLP writes the trace row's text itself"). The foreign keys of the other
 * rows are checked at the statement's end, when the new traces are in.
 *
 * Each row is written with the text of its tags and metadata as they will stand (a stored trace's,
 * read under its lock, with this batch's added), and the statement tells the triggers of
 * migrations 0035/0036 so (`cairn.kv_text_written`, for this transaction only): they skip
 * aggregating the key-value rows again, which was a quarter of a batch's database time. Nothing
 * else writes tags in this transaction, any other transaction tagging these traces waits for their
 * row locks, and a StartTraceV3 storing one this batch found no row for waits for its trace locks
 * (lockTraceWrites).
 *
 * `spans_logged` is whether reads tell the client the spans are in the tracking store, where it
 * reads them through GetTrace (read.ts): only while traces.json fits GetTrace's answer (`bodies`,
 * MAX_SPANS_BYTES); past it, the client downloads the file itself.
 */
async function upsertRows(tx: Orm, written: [string, TraceState][], bodies: Map<string, Buffer>): Promise<void> {
  const infos = written.map(([id, t]) => ({ id, t, info: traceInfoOf([...t.spans.values()]) }));
  const col = <V>(f: (x: (typeof infos)[number]) => V) => infos.map(f);
  // The name column and the name tag hold the same value (a trace without a root span keeps its name).
  // The name tag, and those the requests carried (resource, root span): never the same key twice.
  const tagRows = infos.filter((x) => nameOf(x.t, x.info)).map((x): [string, string, string] => [x.id, TRACE_NAME_TAG, nameOf(x.t, x.info)!]);
  for (const x of infos) for (const [k, v] of x.t.addedTags ?? []) tagRows.push([x.id, k, v]);
  const metadata = infos.flatMap((x) => metadataOf(x.t).map(([k, v]): [string, string, string] => [x.id, k, v]));
  const spanRows = spanRowsUpsert(written.flatMap(([id, t]) =>
    (t.unindexed ? [...t.spans.values()] : [...t.merged].map((s) => t.spans.get(s)!)).map((s): [string, SpanRecord] => [id, s])));
  const [{ updated }] = await rows<{ updated: string[] | null }>(tx, sql`with written as (
    insert into traces (trace_id, experiment_id, client_request_id, request_time, execution_duration, state,
                        request_preview, response_preview, artifact_location, name, tags_json, metadata_json, spans_logged)
    select id, exp, null, rt, dur, st, req, resp, loc, nm, tj, mj, fits from unnest(
      ${textArray(col((x) => x.id))}::text[], ${numberArray(col((x) => x.t.experimentId))}::bigint[],
      ${numberArray(col((x) => x.info.requestTime))}::bigint[], ${nullableTextArray(col((x) => x.info.duration?.toString()))}::bigint[],
      ${textArray(col((x) => x.info.state))}::text[], ${nullableTextArray(col((x) => x.info.requestPreview))}::text[],
      ${nullableTextArray(col((x) => x.info.responsePreview))}::text[], ${textArray(col((x) => x.t.artifactLocation))}::text[],
      ${nullableTextArray(col((x) => nameOf(x.t, x.info)))}::text[],
      ${nullableTextArray(col((x) => tagsText(x.t, x.info)))}::text[], ${nullableTextArray(col((x) => metadataText(x.t)))}::text[],
      ${textArray(col((x) => String(bodies.get(x.id)!.length <= MAX_SPANS_BYTES)))}::boolean[]
    ) as t(id, exp, rt, dur, st, req, resp, loc, nm, tj, mj, fits), (select set_config('cairn.kv_text_written', 'on', true)) as vouched
    on conflict (trace_id) do update set spans_logged = excluded.spans_logged, spans_indexed = true, tags_json = excluded.tags_json, metadata_json = excluded.metadata_json,
      -- A client's StartTraceV3 made the info final: the merged spans leave it (as MLflow's log_spans).
      request_time = case when traces.info_final then traces.request_time else excluded.request_time end,
      execution_duration = case when traces.info_final then traces.execution_duration else excluded.execution_duration end,
      state = case when traces.info_final then traces.state else excluded.state end,
      request_preview = case when traces.info_final then traces.request_preview else coalesce(excluded.request_preview, traces.request_preview) end,
      response_preview = case when traces.info_final then traces.response_preview else coalesce(excluded.response_preview, traces.response_preview) end,
      name = case when traces.info_final then traces.name else coalesce(excluded.name, traces.name) end
    returning trace_id, xmax::text as xmax),
    ${tagRows.length ? sql`tags as (${traceKeyValueUpsert('trace_tags', tagRows)}),` : sql``}
    ${spanRows ? sql`span_rows as (${spanRows}),` : sql``}
    metadata as (${traceKeyValueUpsert('trace_metadata', metadata)})
    select array_agg(trace_id) as updated from written where xmax <> '0'`);
  // A trace this batch found no row for, updated all the same: a writer that does not take the
  // trace locks stored it meanwhile, with tags this batch's text does not hold. Its key-value rows
  // are touched with the triggers back on, which recompute its text from them, as for any writer.
  const byId = new Map(written);
  const raced = (updated ?? []).filter((id) => !byId.get(id)!.stored);
  if (!raced.length) return;
  await tx.execute(sql`select set_config('cairn.kv_text_written', 'off', true)`);
  for (const table of ['trace_tags', 'trace_metadata']) {
    await tx.execute(sql`update ${sql.raw(table)} set value = value where trace_id = any(${textArray(raced)}::text[])`);
  }
}

/** The trace's tags as the batch leaves them (keyValueText): the stored ones, those its requests carried, and the name tag it writes, if any. */
const tagsText = (t: TraceState, info: { name?: string }) => {
  const name = nameOf(t, info);
  return keyValueText(merged(t.stored?.tags, [...(t.addedTags ?? []), ...(name === undefined ? [] : [[TRACE_NAME_TAG, name] as [string, string]])]));
};

const metadataText = (t: TraceState) => keyValueText(merged(t.stored?.metadata, metadataOf(t)));

/** Stored pairs with the batch's written over them, as the upserts of the key-value rows leave them. */
const merged = (stored: [string, string][] | undefined, written: [string, string][]): [string, string][] =>
  [...new Map([...(stored ?? []), ...written])];

/**
 * The metadata an OTLP batch writes for a trace: the schema version, the run it was sent for,
 * (unless StartTraceV3 made the info final, with the client's own figures) the token usage and cost
 * of all its spans (usage.ts), and the session and user its spans name, if it has none yet.
 */
const metadataOf = (t: TraceState): [string, string][] => [
  ['mlflow.trace_schema.version', '3'],
  ...(t.runId ? [[SOURCE_RUN_METADATA, t.runId] as [string, string]] : []),
  ...(t.final ? [] : usageMetadata([...t.spans.values()])),
  ...sessionAndUser(t.spans.values(), (key) => (t.stored?.metadata ?? []).some(([k]) => k === key)),
];
