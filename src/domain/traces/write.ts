import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import { checkStorableText } from '../../lib/storable-text.js';
import { proxyStore } from '../artifacts.js';
import { proxiedKeyOf } from '../artifacts-location.js';
import { activeRootOf, type ExperimentStage } from '../experiments.js';
import { experimentIdOf } from '../ids.js';
import { storeExportedAssessments } from './assessments.js';
import { spansInFlight, traceWriteLocks } from './spans-in-flight.js';
import { TRACE_COLUMNS } from '../search/traces-sql.js';
import { getTraceInfo, lockTrace, traceInfoOfRow, type InfoRow } from './read.js';
import { ARCHIVAL_FAILURE_TAG, ARTIFACT_LOCATION_TAG, checkTraceId, SPANS_LOCATION_TAG, keyValuePairs, keyValueText, SERVER_MANAGED_TAGS, durationMs, timestampMs, TRACE_NAME_TAG, traceState, type TraceInfoWire } from './wire.js';

// Writing traces: StartTraceV3 (called by the client when a trace ends, despite its name), trace
// tags, and deletion. MLflow's limits: keys up to 250 characters, values up to 8000.

const MAX_KEY = 250;
const MAX_VALUE = 8000;
// The client cuts previews to 1000 characters; other writers (OTLP, scripts) get some slack.
const MAX_PREVIEW = 10_000;
const MAX_ENTRIES = 1000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function stringMap(value: unknown, field: string): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined || value === null) return out;
  if (!isObj(value)) throw invalidParam(`Invalid value for '${field}': expected an object of strings`);
  const entries = Object.entries(value);
  if (entries.length > MAX_ENTRIES) throw invalidParam(`'${field}' has more than ${MAX_ENTRIES} entries`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw invalidParam(`Invalid value for '${field}.${k.slice(0, 100)}': expected a string`);
    checkKeyValue(k, v, field);
    out.set(k, v);
  }
  return out;
}

function checkKeyValue(key: string, value: string, what: string): void {
  if (!key || key.length > MAX_KEY) throw invalidParam(`Invalid ${what} key '${key.slice(0, 100)}': it must have 1 to ${MAX_KEY} characters`);
  if (value.length > MAX_VALUE) throw invalidParam(`The ${what} value of '${key.slice(0, 100)}' exceeds the maximum length of ${MAX_VALUE} characters`);
  checkStorableText(key, `${what} key`);
  checkStorableText(value, `${what} value`);
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidParam(`Invalid value for '${field}': expected a string`);
  if (value.length > max) throw invalidParam(`'${field}' exceeds the maximum length of ${max} characters`);
  checkStorableText(value, field);
  return value;
}

/** The experiment a trace_location names (only MLFLOW_EXPERIMENT locations exist outside Databricks). */
export function experimentOfLocation(location: unknown): string {
  const id = isObj(location) && isObj(location.mlflow_experiment) ? location.mlflow_experiment.experiment_id : undefined;
  if (typeof id !== 'string' || !id) {
    throw invalidParam("Invalid trace location: only 'MLFLOW_EXPERIMENT' locations with an experiment_id are supported");
  }
  return id;
}

/**
 * Stores (or, for a retried call, replaces) a trace's info, now final (spans merged later leave it),
 * and answers it with the artifact location tag, where the client then uploads the spans as
 * `traces.json`, unless the answer also says that its spans were logged one by one already
 * (`mlflow.trace.spansLocation = TRACKING_STORE`, read.ts).
 */
export async function startTrace(deps: Deps, info: Obj): Promise<TraceInfoWire> {
  if (typeof info.trace_id !== 'string' || !info.trace_id) throw invalidParam("Missing value for required parameter 'trace.trace_info.trace_id'");
  const traceId = checkTraceId(info.trace_id);
  const shownExperiment = experimentOfLocation(info.trace_location);
  const experimentId = experimentIdOf(shownExperiment);
  const requestTime = timestampMs(info.request_time ?? 0, 'request_time');
  const duration = info.execution_duration == null ? null : durationMs(info.execution_duration, 'execution_duration');
  const state = traceState(info.state);
  const tags = stringMap(info.tags, 'tags');
  const metadata = stringMap(info.trace_metadata, 'trace_metadata');
  const requestPreview = optionalText(info.request_preview, 'request_preview', MAX_PREVIEW);
  const responsePreview = optionalText(info.response_preview, 'response_preview', MAX_PREVIEW);
  const clientRequestId = optionalText(info.client_request_id, 'client_request_id', MAX_KEY);
  await spansInFlight(deps, traceId);
  // The server owns the artifact location (a client's own value would point uploads elsewhere)
  // and the other tags MLflow's server manages: a client's values are dropped, as MLflow does.
  for (const key of SERVER_MANAGED_TAGS) tags.delete(key);
  // The tags are merged into the stored ones, so a call without a name keeps the stored name.
  const name = tags.get(TRACE_NAME_TAG) ?? null;
  const triples = (pairs: Map<string, string>) => [...pairs].map(([k, v]): [string, string, string] => [traceId, k, v]);
  // Five round trips to the database (begin, three statements, commit): each costs the server more
  // CPU than most statements themselves (docs/bench.md, the client's path replayed).
  const row = await deps.db.transaction(async (tx) => {
    // The experiment's check and the trace's lock (as span merges take it), in one statement.
    const [exp] = await rows<ExperimentStage>(tx, sql`
      select e.lifecycle_stage, e.artifact_location, (${traceWriteLocks([traceId])}) as locked from experiments e where e.experiment_id = ${experimentId}`);
    const artifactLocation = `${activeRootOf(exp, experimentId, shownExperiment)}/traces/${traceId}/artifacts`;
    // Read after the lock: this statement's snapshot sees a row another writer of the trace stored
    // while this one waited.
    const [stored] = await rows<{ experiment_id: string | number; tags_json: string | null; metadata_json: string | null }>(tx, sql`
      select experiment_id, tags_json, metadata_json from traces where trace_id = ${traceId} for update`);
    if (stored && Number(stored.experiment_id) !== experimentId) {
      throw invalidParam(`Trace ${traceId} already exists in another experiment`);
    }
    // One statement writes the row, its tag and metadata rows, and the row's tag and metadata text
    // as they will stand (the stored pairs, read under the row's lock or, for a new trace, the
    // trace lock, with these over them), and tells the triggers of migrations 0035/0036 so, as
    // OTLP's batch does: their aggregation and two more versions of the row were most of
    // StartTraceV3's database time. The row comes back as the answer's.
    const found = await rows<InfoRow>(tx, sql`with written as (
      insert into traces as t (trace_id, experiment_id, client_request_id, request_time, execution_duration, state,
                          request_preview, response_preview, artifact_location, name, tags_json, metadata_json, info_final)
      select ${traceId}::text, ${experimentId}::bigint, ${clientRequestId}::text, ${requestTime}::bigint, ${duration}::bigint, ${state}::text,
             ${requestPreview}::text, ${responsePreview}::text, ${artifactLocation}::text, ${name}::text,
             ${keyValueText(mergedPairs(stored?.tags_json, tags), ARTIFACT_LOCATION_TAG)}::text, ${keyValueText(mergedPairs(stored?.metadata_json, metadata))}::text, true
      from (select set_config('cairn.kv_text_written', 'on', true)) as vouched
      on conflict (trace_id) do update set info_final = true, client_request_id = excluded.client_request_id, request_time = excluded.request_time,
        execution_duration = excluded.execution_duration, state = excluded.state, request_preview = excluded.request_preview,
        response_preview = excluded.response_preview, name = coalesce(excluded.name, t.name),
        tags_json = excluded.tags_json, metadata_json = excluded.metadata_json
      returning ${TRACE_COLUMNS}),
      tag_rows as (${traceKeyValueUpsert('trace_tags', triples(tags))}),
      metadata_rows as (${traceKeyValueUpsert('trace_metadata', triples(metadata))})
      select w.*, exists (select 1 from assessments a where a.trace_id = w.trace_id) as assessed from written w`);
    await storeExportedAssessments(tx, traceId, info.assessments, deps.now());
    return found[0];
  });
  // Assessments exported with the trace were stored after the row was read back.
  const stored = Array.isArray(info.assessments) && info.assessments.length ? await getTraceInfo(deps, traceId) : await traceInfoOfRow(deps.db, row);
  // A large trace is asked for its upload all the same: one of its spans could have been in a
  // span request over OTLP's size limit, refused, and would then be lost. (The upload keeps the
  // spans stored that it lacks: upload.ts.)
  if (stored.tags[SPANS_LOCATION_TAG] && !(traceBytes(metadata) <= SMALL_TRACE_BYTES)) delete stored.tags[SPANS_LOCATION_TAG];
  return stored;
}

/** Stored key-value text (traces.tags_json or metadata_json) with these pairs over it, as the upserts of their rows leave them. */
const mergedPairs = (text: string | null | undefined, written: Map<string, string>): Map<string, string> => new Map([...keyValuePairs(text), ...written]);

/** Traces up to this size (the client's own count) are not asked to upload spans it logged one by one. */
const SMALL_TRACE_BYTES = 1024 * 1024;

/** The trace's size in bytes as the client measured it (`mlflow.trace.sizeStats`), or NaN without it. */
function traceBytes(metadata: Map<string, string>): number {
  try {
    const total = (JSON.parse(metadata.get('mlflow.trace.sizeStats') ?? 'null') as { total_size_bytes?: unknown } | null)?.total_size_bytes;
    return typeof total === 'number' ? total : NaN;
  } catch {
    return NaN;
  }
}

export async function upsertKeyValues(tx: Orm, table: 'trace_tags' | 'trace_metadata', traceId: string, values: Map<string, string>): Promise<void> {
  await upsertTraceKeyValues(tx, table, [...values].map(([k, v]): [string, string, string] => [traceId, k, v]));
}

/** Tags or metadata of any number of traces, as (trace id, key, value): one statement. */
export async function upsertTraceKeyValues(tx: Orm, table: 'trace_tags' | 'trace_metadata', triples: [string, string, string][]): Promise<void> {
  if (!triples.length) return;
  await tx.execute(traceKeyValueUpsert(table, triples));
}

/** The upsert of upsertTraceKeyValues, for a statement that writes more (OTLP's, otlp-batch.ts). */
export function traceKeyValueUpsert(table: 'trace_tags' | 'trace_metadata', triples: [string, string, string][]): SQL {
  return sql`
    insert into ${sql.raw(table)} (trace_id, key, value)
    select * from unnest(${textArray(triples.map((x) => x[0]))}::text[], ${textArray(triples.map((x) => x[1]))}::text[],
                         ${textArray(triples.map((x) => x[2]))}::text[])
    on conflict (trace_id, key) do update set value = excluded.value`;
}

export async function setTraceTag(deps: Deps, traceId: string, key: string, value: string): Promise<void> {
  checkKeyValue(key, value, 'tag');
  if (SERVER_MANAGED_TAGS.has(key)) throw invalidParam(`Tag '${key}' is immutable and cannot be set on a trace.`);
  await deps.db.transaction(async (tx) => {
    await lockTrace(tx, checkTraceId(traceId));
    await upsertKeyValues(tx, 'trace_tags', traceId, new Map([[key, value]]));
    if (key === TRACE_NAME_TAG) await tx.execute(sql`update traces set name = ${value} where trace_id = ${traceId}`);
  });
}

export async function deleteTraceTag(deps: Deps, traceId: string, key: string): Promise<void> {
  checkTraceId(traceId);
  // The archival failure marker is the one managed tag a client clears (to let archival retry).
  if (SERVER_MANAGED_TAGS.has(key) && key !== ARCHIVAL_FAILURE_TAG) throw invalidParam(`Tag '${key}' is immutable and cannot be deleted on a trace.`);
  // As MLflow: a missing tag, and a missing trace, are both "no such tag" (404).
  const remove = (db: Orm) => rows(db, sql`delete from trace_tags where trace_id = ${traceId} and key = ${key} returning key`);
  // The name tag goes with the row's name column, under the row's lock (as set_trace_tag takes it).
  const gone =
    key === TRACE_NAME_TAG
      ? await deps.db.transaction(async (tx) => {
          await tx.execute(sql`select 1 from traces where trace_id = ${traceId} for update`);
          const deleted = await remove(tx);
          if (deleted.length) await tx.execute(sql`update traces set name = null where trace_id = ${traceId}`);
          return deleted;
        })
      : await remove(deps.db);
  if (!gone.length) throw notFound(`No trace tag with key '${key.slice(0, 250)}' for trace with ID '${traceId}'`);
}

const MAX_DELETE_IDS = 100;

/**
 * DeleteTraces: by ids, or those older than `max_timestamp_millis` (oldest first, at most
 * `max_traces`), never both. Rows go first, then their blobs: a crash between leaves an
 * unreferenced folder, never a trace whose spans are missing.
 */
export async function deleteTraces(
  deps: Deps,
  input: { experiment_id: string; max_timestamp_millis?: number; max_traces?: number; request_ids?: string[] },
): Promise<number> {
  const experimentId = experimentIdOf(input.experiment_id);
  const ids = input.request_ids ?? [];
  const byTime = input.max_timestamp_millis !== undefined;
  // MLflow's messages (they name the store's argument, trace_ids).
  if (!byTime && !ids.length) throw invalidParam('Either `max_timestamp_millis` or `trace_ids` must be specified.');
  if (byTime && ids.length) throw invalidParam('Only one of `max_timestamp_millis` and `trace_ids` can be specified.');
  if (ids.length && input.max_traces !== undefined) throw invalidParam("`max_traces` can't be specified if `trace_ids` is specified.");
  if (ids.length > MAX_DELETE_IDS) throw invalidParam(`request_ids may name at most ${MAX_DELETE_IDS} traces`);
  if (input.max_traces !== undefined && input.max_traces <= 0) throw invalidParam(`\`max_traces\` must be a positive integer, received ${input.max_traces}.`);
  const which = byTime
    ? sql`trace_id in (select trace_id from traces where experiment_id = ${experimentId} and request_time <= ${input.max_timestamp_millis!}
                       order by request_time, trace_id ${input.max_traces === undefined ? sql`` : sql`limit ${input.max_traces}`})`
    : sql`experiment_id = ${experimentId} and trace_id = any(${textArray(ids)}::text[])`;
  const deleted = await rows<{ artifact_location: string }>(deps.db, sql`delete from traces where ${which} returning artifact_location`);
  await freeTraceBlobs(deps, deleted.map((d) => d.artifact_location));
  return deleted.length;
}

/** Deletes the spans (and attachments) of traces whose folder is in Cairn's own store. */
async function freeTraceBlobs(deps: Deps, locations: string[]): Promise<void> {
  const store = proxyStore(deps);
  for (const location of locations) {
    const key = proxiedKeyOf(location);
    // `<exp>/traces/<id>/artifacts` -> the trace's whole folder; anything else is not ours to delete.
    const folder = key && /^(.+\/traces\/[^/]+)\/artifacts$/.exec(key)?.[1];
    if (folder) await store.delete(folder);
  }
}
