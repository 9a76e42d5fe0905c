import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import { proxyStore } from '../artifacts.js';
import { proxiedKeyOf } from '../artifacts-location.js';
import { experimentIdOf } from '../ids.js';
import { getTraceInfo, traceInfosByIds } from './read.js';
import { checkTraceId, type TraceInfoWire } from './wire.js';

// A trace with its spans (GetTrace / BatchGetTraces, `/api/3.0/mlflow/traces/get` and `batchGet`):
// the info from Postgres and the spans from the trace's traces.json, turned into the OpenTelemetry
// Span protos (in proto JSON) that the client's `Trace.from_proto` reads. Cairn keeps spans as
// blobs, not rows, so this is the same data `get_trace` downloads itself, in the other shape.

type Obj = Record<string, unknown>;

/** A span as MLflow's `Span.to_dict` writes it into traces.json (attributes as JSON text). */
export interface SpanRecord {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string | null;
  events: { name: string; time_unix_nano: string; attributes: Obj }[];
  status: { code: string; message: string };
  attributes: Record<string, string>;
  links?: unknown[];
}

export const MAX_BATCH_GET = 100;
/** A traces.json is read whole (parsed, converted or merged): past this size a trace is refused, not loaded. */
export const MAX_SPANS_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 32;

// The client writes nanosecond times as JSON numbers past 2^53: read as text, they keep every digit.
const NANOS = /(?<!\\)"((?:start_|end_)?time_unix_nano)"(\s*:\s*)(\d+)/g;
const quoteNanos = (json: string) => json.replace(NANOS, '"$1"$2"$3"');

/** The key of a trace's traces.json in Cairn's store; undefined when its artifact location is elsewhere. */
export function traceDataKey(artifactLocation: string): string | undefined {
  const folder = proxiedKeyOf(artifactLocation);
  return folder === undefined ? undefined : `${folder}/traces.json`;
}

/** The spans in a traces.json blob of Cairn's store; none when the client has not uploaded it yet. */
export async function storedSpans(deps: Deps, key: string): Promise<SpanRecord[]> {
  try {
    const { body, size } = await proxyStore(deps).get(key);
    if (size > MAX_SPANS_BYTES) {
      body.destroy();
      throw new MlflowError('INVALID_STATE', `The spans of this trace (${key}) are ${size} bytes, more than the ${MAX_SPANS_BYTES >> 20} MiB Cairn reads into one answer; download traces.json from the artifact store instead`);
    }
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    // A blob that is not the client's JSON (written by hand into the store) has no spans to give.
    return parseTraceData(Buffer.concat(chunks))?.spans ?? [];
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return [];
    throw err;
  }
}

/** A traces.json's spans and its other fields, or undefined for text that is not one. */
export function parseTraceData(text: Buffer): { spans: SpanRecord[]; rest: Record<string, unknown> } | undefined {
  try {
    const parsed: unknown = JSON.parse(quoteNanos(text.toString('utf8')));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const { spans, ...rest } = parsed as { spans?: unknown };
    return Array.isArray(spans) ? { spans: spans as SpanRecord[], rest } : undefined;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** An OTLP AnyValue (proto JSON) for a JSON value, the inverse of the client's decoding. */
function anyValue(v: unknown, depth = 0): Obj {
  if (v === null || v === undefined || depth > MAX_DEPTH) return {};
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int_value: String(v) } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map((x) => anyValue(x, depth + 1)) } };
  if (typeof v === 'object') return { kvlist_value: { values: keyValues(v as Obj, depth + 1) } };
  return {};
}

const keyValues = (o: Obj, depth = 0) => Object.entries(o).map(([key, value]) => ({ key, value: anyValue(value, depth) }));

function parsedAttribute(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One traces.json span as an OpenTelemetry Span proto in JSON. */
export function spanToProtoJson(s: SpanRecord): Obj {
  const attributes = Object.entries(s.attributes ?? {}).map(([key, text]) => ({ key, value: anyValue(parsedAttribute(text)) }));
  const out: Obj = {
    trace_id: s.trace_id,
    span_id: s.span_id,
    name: s.name,
    kind: s.kind || 'SPAN_KIND_INTERNAL',
    start_time_unix_nano: String(s.start_time_unix_nano),
    attributes,
    events: (s.events ?? []).map((e) => ({ name: e.name, time_unix_nano: String(e.time_unix_nano), attributes: keyValues(e.attributes ?? {}) })),
    status: { code: s.status?.code ?? 'STATUS_CODE_UNSET', ...(s.status?.message ? { message: s.status.message } : {}) },
  };
  if (s.parent_span_id) out.parent_span_id = s.parent_span_id;
  if (s.end_time_unix_nano) out.end_time_unix_nano = String(s.end_time_unix_nano);
  return out;
}

/** The spans of a trace, from traces.json under its artifact location (none when outside Cairn's store). */
async function spansOf(deps: Deps, info: TraceInfoWire): Promise<Obj[]> {
  const key = traceDataKey(info.tags['mlflow.artifactLocation'] ?? '');
  return key === undefined ? [] : (await storedSpans(deps, key)).map(spanToProtoJson);
}

export async function getTraceWithSpans(deps: Deps, traceId: string): Promise<{ trace_info: TraceInfoWire; spans: Obj[] }> {
  const info = await getTraceInfo(deps, traceId);
  return { trace_info: info, spans: await spansOf(deps, info) };
}

function checkBatch(traceIds: string[]): void {
  if (!traceIds.length) throw invalidParam("Missing value for required parameter 'trace_ids'.");
  if (traceIds.length > MAX_BATCH_GET) throw invalidParam(`trace_ids may name at most ${MAX_BATCH_GET} traces, got ${traceIds.length}`);
  traceIds.forEach(checkTraceId);
}

/** Trace infos by id, in the order asked; unknown ids (and traces outside `experimentIds`, when given) are left out. */
export async function batchGetTraceInfos(deps: Deps, traceIds: string[], experimentIds?: string[]): Promise<TraceInfoWire[]> {
  checkBatch(traceIds);
  if (experimentIds && !experimentIds.length) return [];
  const infos = await traceInfosByIds(deps.db, traceIds, experimentIds?.map(experimentIdOf));
  const byId = new Map(infos.map((i) => [i.trace_id, i]));
  return [...new Set(traceIds)].map((id) => byId.get(id)).filter((i): i is TraceInfoWire => i !== undefined);
}

export async function batchGetTraces(deps: Deps, traceIds: string[], experimentIds?: string[]): Promise<{ trace_info: TraceInfoWire; spans: Obj[] }[]> {
  const infos = await batchGetTraceInfos(deps, traceIds, experimentIds);
  return Promise.all(infos.map(async (info) => ({ trace_info: info, spans: await spansOf(deps, info) })));
}

/**
 * Links traces to a run (LinkTracesToRun, `MlflowClient().link_traces_to_run`): afterwards
 * `search_traces(run_id=…)` finds them, as it finds traces logged inside the run. As MLflow: at
 * most 100 ids, none is a no-op, ids of no trace are skipped, a missing run is a 404.
 */
export async function linkTracesToRun(deps: Deps, traceIds: string[], runId: string): Promise<void> {
  if (!traceIds.length) return;
  checkBatch(traceIds);
  await deps.db.transaction(async (tx) => {
    const run = await rows(tx, sql`select 1 from runs where run_id = ${runId}`);
    if (!run.length) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId.slice(0, 100)} not found`);
    await tx.execute(sql`insert into trace_run_links (trace_id, run_id)
      select trace_id, ${runId} from traces where trace_id = any(${textArray([...new Set(traceIds)])}::text[])
      on conflict do nothing`);
  });
}
