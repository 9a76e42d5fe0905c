import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { getTraceInfo, traceNotFound } from './read.js';
import { checkTraceId, SERVER_MANAGED_TAGS, TRACE_NAME_TAG, traceInfoV2, type TraceInfoV2Wire } from './wire.js';
import { startTrace, stringMap, upsertKeyValues } from './write.js';

// The MLflow 2 trace lifecycle (StartTrace at the start of a trace, EndTrace at its end), which
// clients before 3.0 call and the 3.18 client falls back to on a server without StartTraceV3.
// The trace is the same row as a v3 one: get_trace, search_traces and the UI find it, and its
// spans go to `traces.json` at the same artifact location.

export interface KeyValue {
  key: string;
  value?: string;
}

/** The v2 statuses a trace can end in (TRACE_STATUS_UNSPECIFIED has no v3 state to become). */
export const V2_END_STATUSES = ['OK', 'ERROR', 'IN_PROGRESS'] as const;
export type V2EndStatus = (typeof V2_END_STATUSES)[number];

/** A v2 key/value list as a map checked like v3's (later duplicates win, as in MLflow's dict). */
function listMap(list: KeyValue[] | undefined, field: string): Map<string, string> {
  const obj: Record<string, string> = Object.create(null);
  for (const { key, value } of list ?? []) obj[key] = value ?? '';
  return stringMap(obj, field);
}

function clientTags(list: KeyValue[] | undefined): Map<string, string> {
  const tags = listMap(list, 'tags');
  // Clients of the old API send back every tag they read, the server's own included: dropped, not refused.
  for (const key of SERVER_MANAGED_TAGS) tags.delete(key);
  return tags;
}

/** StartTrace (v2): a new IN_PROGRESS trace with a server-chosen id (32 hex digits, as MLflow's). */
export async function startTraceV2(
  deps: Deps,
  input: { experiment_id: string; timestamp_ms?: number; request_metadata?: KeyValue[]; tags?: KeyValue[] },
): Promise<TraceInfoV2Wire> {
  const info = await startTrace(deps, {
    trace_id: randomUUID().replaceAll('-', ''),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: input.experiment_id } },
    // MLflow stores a missing start time as 0.
    request_time: input.timestamp_ms ?? 0,
    state: 'IN_PROGRESS',
    trace_metadata: Object.fromEntries(listMap(input.request_metadata, 'request_metadata')),
    tags: Object.fromEntries(clientTags(input.tags)),
  });
  return traceInfoV2(info);
}

/**
 * EndTrace (v2): the trace's status and execution time (end minus start), its metadata and tags
 * merged into the stored ones. Ending again overwrites, so a retried call is harmless.
 */
export async function endTraceV2(
  deps: Deps,
  requestId: string,
  input: { timestamp_ms: number; status: V2EndStatus; request_metadata?: KeyValue[]; tags?: KeyValue[] },
): Promise<TraceInfoV2Wire> {
  const traceId = checkTraceId(requestId);
  const metadata = listMap(input.request_metadata, 'request_metadata');
  const tags = clientTags(input.tags);
  await deps.db.transaction(async (tx) => {
    const found = await rows<{ request_time: string | number }>(tx, sql`select request_time from traces where trace_id = ${traceId} for update`);
    if (!found.length) throw traceNotFound(traceId);
    const duration = input.timestamp_ms - Number(found[0].request_time);
    // MLflow stores the negative difference; a trace that ends before it starts is refused instead.
    if (duration < 0) {
      throw invalidParam(`Invalid value ${input.timestamp_ms} for parameter 'timestamp_ms' supplied: the trace started at ${found[0].request_time}`);
    }
    // Tags are merged into the stored ones: a name among them replaces the stored name, else it stays.
    const name = tags.get(TRACE_NAME_TAG) ?? null;
    await tx.execute(sql`update traces set execution_duration = ${duration}, state = ${input.status}, name = coalesce(${name}, name)
      where trace_id = ${traceId}`);
    await upsertKeyValues(tx, 'trace_tags', traceId, tags);
    await upsertKeyValues(tx, 'trace_metadata', traceId, metadata);
  });
  return traceInfoV2(await getTraceInfo(deps, traceId));
}

/** GetTraceInfo (v2). */
export async function getTraceInfoV2(deps: Deps, requestId: string): Promise<TraceInfoV2Wire> {
  return traceInfoV2(await getTraceInfo(deps, requestId));
}
