import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { decodeTracePageToken, encodeTracePageToken, traceSearchScope } from '../../lib/page-token.js';
import { textArray } from '../../lib/pg-array.js';
import { experimentIdOf } from '../ids.js';
import { assessmentsOf } from './assessments.js';
import { isDefaultTraceOrder, TRACE_COLUMNS, traceSearchQuery } from '../search/traces-sql.js';
import { protoTimestamp } from '../../lib/proto-time.js';
import { ARTIFACT_LOCATION_TAG, checkTraceId, SPANS_LOCATION_TAG, TRACKING_STORE, executionDuration, traceInfoToWire, type TraceInfoWire, type TraceRow } from './wire.js';

const SELECT_TRACE = sql`SELECT ${TRACE_COLUMNS} FROM traces t`;

export const traceNotFound = (traceId: string) => notFound(`Trace with ID '${traceId.slice(0, 200)}' not found.`);

/** Locks a trace row for a write on it; a missing trace is a 404. */
export async function lockTrace(tx: Orm, traceId: string): Promise<void> {
  const found = await rows(tx, sql`select 1 from traces where trace_id = ${traceId} for update`);
  if (!found.length) throw traceNotFound(traceId);
}

/** `tags` and `metadata`: the JSON text of them the triggers keep (traces.tags_json, metadata_json), or null for none. */
export type InfoRow = TraceRow & { artifact_location: string; tags: string | null; metadata: string | null; spans_logged: boolean; assessed: boolean };

/**
 * The trace rows `rowsQuery` selects (in its order), each with whether it has assessments. The rows
 * are a subquery (with their own ORDER BY and LIMIT), so the check runs for those rows only, not for
 * the ones an OFFSET skips; a scan of a subquery keeps its order.
 */
function withAssessedFlag(db: Orm, rowsQuery: SQL): Promise<InfoRow[]> {
  return rows<InfoRow>(db, sql`SELECT p.*, EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = p.trace_id) AS assessed FROM (${rowsQuery}) p`);
}

const objectOf = (text: string | null): Record<string, string> => (text ? (JSON.parse(text) as Record<string, string>) : {});
/**
 * The stored tags with the two the server owns and keeps in columns: the artifact location, and,
 * for a trace whose spans were logged one by one, the tracking store as their location (as MLflow's
 * server tags them): the mlflow client that logged them then skips uploading traces.json, and reads
 * the spans through GetTrace, from the same traces.json the merges wrote.
 */
const tagsOf = (r: InfoRow) => ({
  ...objectOf(r.tags),
  [ARTIFACT_LOCATION_TAG]: r.artifact_location,
  ...(r.spans_logged ? { [SPANS_LOCATION_TAG]: TRACKING_STORE } : {}),
});

/** The assessments of those rows that have some (one statement). */
async function assessmentsOfRows(db: Orm, found: InfoRow[]): Promise<Map<string, Record<string, unknown>[]>> {
  const withAssessments = found.filter((r) => r.assessed).map((r) => r.trace_id);
  return withAssessments.length ? assessmentsOf(db, withAssessments, textArray(withAssessments)) : new Map();
}

/** Wire infos of those rows. */
async function toWire(db: Orm, found: InfoRow[]): Promise<TraceInfoWire[]> {
  const assessed = await assessmentsOfRows(db, found);
  return found.map((r) => {
    const wire = traceInfoToWire(r, tagsOf(r), objectOf(r.metadata));
    const list = assessed.get(r.trace_id);
    return list ? { ...wire, assessments: list } : wire;
  });
}

/** The wire info of a trace row as a write returned it (TRACE_COLUMNS' names, and whether it has assessments). */
export async function traceInfoOfRow(db: Orm, row: InfoRow): Promise<TraceInfoWire> {
  return (await toWire(db, [row]))[0];
}

export async function getTraceInfo(deps: Deps, traceId: string): Promise<TraceInfoWire> {
  checkTraceId(traceId);
  const found = await withAssessedFlag(deps.db, sql`${SELECT_TRACE} where t.trace_id = ${traceId}`);
  if (!found.length) throw traceNotFound(traceId);
  return (await toWire(deps.db, found))[0];
}

/** The infos of the traces named (unknown ids left out), optionally only those in some experiments. */
export async function traceInfosByIds(db: Orm, traceIds: string[], experimentIds?: number[]): Promise<TraceInfoWire[]> {
  const scope = experimentIds ? sql` and t.experiment_id = any(${`{${experimentIds.join(',')}}`}::bigint[])` : sql``;
  return toWire(db, await withAssessedFlag(db, sql`${SELECT_TRACE} where t.trace_id = any(${textArray(traceIds)}::text[])${scope}`));
}

/** The experiment a trace belongs to, for access checks; undefined when there is no such trace. */
export async function experimentOfTrace(deps: Deps, traceId: string): Promise<number | undefined> {
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from traces where trace_id = ${traceId}`);
  return found.length ? Number(found[0].experiment_id) : undefined;
}

export const SEARCH_TRACES_MAX_RESULTS = 500;

type SearchInput = { experimentIds: string[]; filter?: string; max_results?: number; order_by?: string[]; page_token?: string };

/**
 * The page's rows (one past the page, to tell whether another follows) and the next page's token:
 * in the default order it also names the page's last trace and the search's scope, and the next page
 * starts after that trace (traceSearchQuery's keyset) instead of at its offset, which stays in the
 * token for a request with another order, filter or experiments.
 */
async function searchRows(deps: Deps, input: SearchInput): Promise<{ found: InfoRow[]; limit: number; next?: string }> {
  if (!input.experimentIds.length) throw invalidParam('At least one experiment location is required to search traces');
  const experimentIds = input.experimentIds.map(experimentIdOf);
  const limit = input.max_results ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_TRACES_MAX_RESULTS) {
    throw invalidParam(`Invalid value for max_results: it must be between 1 and ${SEARCH_TRACES_MAX_RESULTS}, got ${limit}`);
  }
  const scope = traceSearchScope(experimentIds, input.filter);
  const { offset, after } = decodeTracePageToken(input.page_token, scope);
  const keyed = isDefaultTraceOrder(input.order_by);
  const query = traceSearchQuery({
    experimentIds, filter: input.filter, orderBy: input.order_by, offset: keyed && after ? 0 : offset, limit: limit + 1, after: keyed ? after : undefined,
  });
  const found = await withAssessedFlag(deps.db, query);
  if (found.length <= limit) return { found, limit };
  const last = found[limit - 1];
  const key = keyed ? { requestTime: String(last.request_time), traceId: last.trace_id, scope } : undefined;
  return { found, limit, next: encodeTracePageToken(offset + limit, key) };
}

export async function searchTraces(deps: Deps, input: SearchInput): Promise<{ traces: TraceInfoWire[]; next_page_token?: string }> {
  const { found, limit, next } = await searchRows(deps, input);
  const traces = await toWire(deps.db, found.slice(0, limit));
  return next ? { traces, next_page_token: next } : { traces };
}

/**
 * SearchTracesV3's answer as JSON text (`{}` when nothing matched, as the real server answers): the
 * same object as searchTraces' result, joined from the rows' text instead of a page of objects
 * built and serialised (infoJson).
 */
export async function searchTracesJson(deps: Deps, input: SearchInput): Promise<string> {
  const { found, limit, next } = await searchRows(deps, input);
  const page = found.slice(0, limit);
  if (!page.length) return '{}';
  const assessed = await assessmentsOfRows(deps.db, page);
  const traces = page.map((r) => infoJson(r, assessed.get(r.trace_id))).join(',');
  return `{"traces":[${traces}]${next ? `,"next_page_token":${JSON.stringify(next)}` : ''}}`;
}

/**
 * One trace info as JSON: the object traceInfoToWire and toWire make, its fields in their order,
 * with the tags and metadata as the text the triggers keep (compact JSON, keys in byte order, the
 * tags kept in columns left out: migrations/0035) taken as it is. For a page of 100 traces, parsing
 * each trace's tags and metadata and serialising them again was most of the answer's CPU time
 * after the database's. (Written by Postgres instead, the text cost it more than it saved Node:
 * docs/bench.md.)
 */
const LOGGED_SPANS_LOCATION = `,"${SPANS_LOCATION_TAG}":"${TRACKING_STORE}"`;

function infoJson(r: InfoRow, assessments: Record<string, unknown>[] | undefined): string {
  const location = `"${ARTIFACT_LOCATION_TAG}":${JSON.stringify(r.artifact_location)}${r.spans_logged ? LOGGED_SPANS_LOCATION : ''}`;
  const tags = r.tags ? `${r.tags.slice(0, -1)},${location}}` : `{${location}}`;
  // The experiment id (a bigint), the time and the duration are Cairn's own formatting, with nothing to escape.
  // No metadata is no field, as proto JSON (and so `mlflow server`) leaves an empty map out.
  let out = `{"trace_id":${JSON.stringify(r.trace_id)},"trace_location":{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"${r.experiment_id}"}},"request_time":"${protoTimestamp(Number(r.request_time))}","state":${JSON.stringify(r.state)},${r.metadata ? `"trace_metadata":${r.metadata},` : ''}"tags":${tags}`;
  if (r.client_request_id != null) out += `,"client_request_id":${JSON.stringify(r.client_request_id)}`;
  if (r.request_preview != null) out += `,"request_preview":${JSON.stringify(r.request_preview)}`;
  if (r.response_preview != null) out += `,"response_preview":${JSON.stringify(r.response_preview)}`;
  if (r.execution_duration != null) out += `,"execution_duration":"${executionDuration(r.execution_duration)}"`;
  if (assessments) out += `,"assessments":${JSON.stringify(assessments)}`;
  return `${out}}`;
}
