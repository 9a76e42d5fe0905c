import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { decodeOffsetToken, encodeOffsetToken } from '../../lib/page-token.js';
import { textArray } from '../../lib/pg-array.js';
import { experimentIdOf } from '../ids.js';
import { assessmentsOf } from './assessments.js';
import { traceSearchQuery } from '../search/traces-sql.js';
import { ARTIFACT_LOCATION_TAG, checkTraceId, traceInfoToWire, type TraceInfoWire, type TraceRow } from './wire.js';

const SELECT_TRACE = sql`select trace_id, experiment_id, client_request_id, request_time, execution_duration, state,
  request_preview, response_preview, artifact_location from traces`;

export const traceNotFound = (traceId: string) => notFound(`Trace with ID '${traceId.slice(0, 200)}' not found.`);

/** Locks a trace row for a write on it; a missing trace is a 404. */
export async function lockTrace(tx: Orm, traceId: string): Promise<void> {
  const found = await rows(tx, sql`select 1 from traces where trace_id = ${traceId} for update`);
  if (!found.length) throw traceNotFound(traceId);
}

type InfoRow = TraceRow & { artifact_location: string; tags: string | null; metadata: string | null; assessed: boolean };

/**
 * The trace rows `rowsQuery` selects (in its order) with their tags and metadata, one JSON object
 * each, in the same statement: one round trip instead of four, and a few small JSON.parse calls
 * instead of a row per tag. The rows are a subquery (with their own ORDER BY and LIMIT), so the
 * per-row subqueries run for those rows only, not for the ones an OFFSET skips; a scan of a
 * subquery keeps its order.
 */
function withKeyValues(db: Orm, rowsQuery: SQL): Promise<InfoRow[]> {
  return rows<InfoRow>(db, sql`SELECT p.*,
      (SELECT json_object_agg(kv.key, kv.value) FROM trace_tags kv WHERE kv.trace_id = p.trace_id)::text AS tags,
      (SELECT json_object_agg(kv.key, kv.value) FROM trace_metadata kv WHERE kv.trace_id = p.trace_id)::text AS metadata,
      EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = p.trace_id) AS assessed
    FROM (${rowsQuery}) p`);
}

/** Wire infos of those rows; the assessments are read for the traces that have some (one statement). */
async function toWire(db: Orm, found: InfoRow[]): Promise<TraceInfoWire[]> {
  const withAssessments = found.filter((r) => r.assessed).map((r) => r.trace_id);
  const assessed = withAssessments.length ? await assessmentsOf(db, withAssessments, textArray(withAssessments)) : new Map<string, Record<string, unknown>[]>();
  return found.map((r) => {
    const tags = { ...(r.tags ? (JSON.parse(r.tags) as Record<string, string>) : {}), [ARTIFACT_LOCATION_TAG]: r.artifact_location };
    const wire = traceInfoToWire(r, tags, r.metadata ? (JSON.parse(r.metadata) as Record<string, string>) : {});
    const list = assessed.get(r.trace_id);
    return list ? { ...wire, assessments: list } : wire;
  });
}

export async function getTraceInfo(deps: Deps, traceId: string): Promise<TraceInfoWire> {
  checkTraceId(traceId);
  const found = await withKeyValues(deps.db, sql`${SELECT_TRACE} where trace_id = ${traceId}`);
  if (!found.length) throw traceNotFound(traceId);
  return (await toWire(deps.db, found))[0];
}

/** The infos of the traces named (unknown ids left out), optionally only those in some experiments. */
export async function traceInfosByIds(db: Orm, traceIds: string[], experimentIds?: number[]): Promise<TraceInfoWire[]> {
  const scope = experimentIds ? sql` and experiment_id = any(${`{${experimentIds.join(',')}}`}::bigint[])` : sql``;
  return toWire(db, await withKeyValues(db, sql`${SELECT_TRACE} where trace_id = any(${textArray(traceIds)}::text[])${scope}`));
}

/** The experiment a trace belongs to, for access checks; undefined when there is no such trace. */
export async function experimentOfTrace(deps: Deps, traceId: string): Promise<number | undefined> {
  const found = await rows<{ experiment_id: string | number }>(deps.db, sql`select experiment_id from traces where trace_id = ${traceId}`);
  return found.length ? Number(found[0].experiment_id) : undefined;
}

export const SEARCH_TRACES_MAX_RESULTS = 500;

export async function searchTraces(
  deps: Deps,
  input: { experimentIds: string[]; filter?: string; max_results?: number; order_by?: string[]; page_token?: string },
): Promise<{ traces: TraceInfoWire[]; next_page_token?: string }> {
  if (!input.experimentIds.length) throw invalidParam('At least one experiment location is required to search traces');
  const experimentIds = input.experimentIds.map(experimentIdOf);
  const limit = input.max_results ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_TRACES_MAX_RESULTS) {
    throw invalidParam(`Invalid value for max_results: it must be between 1 and ${SEARCH_TRACES_MAX_RESULTS}, got ${limit}`);
  }
  const offset = decodeOffsetToken(input.page_token);
  const query = traceSearchQuery({ experimentIds, filter: input.filter, orderBy: input.order_by, offset, limit: limit + 1 });
  const found = await withKeyValues(deps.db, query);
  const traces = await toWire(deps.db, found.slice(0, limit));
  return found.length > limit ? { traces, next_page_token: encodeOffsetToken(offset + limit) } : { traces };
}

/** How many traces the experiments hold, optionally requested in [start, end) ms (the UI's Overview "trace_count"). */
export async function countTraces(deps: Deps, experimentIds: string[], range: { start?: number; end?: number } = {}): Promise<number> {
  const ids = experimentIds.map(experimentIdOf);
  const found = await rows<{ n: string | number }>(
    deps.db,
    sql`select count(*) as n from traces where experiment_id = any(${`{${ids.join(',')}}`}::bigint[])
        ${range.start === undefined ? sql`` : sql`and request_time >= ${range.start}`} ${range.end === undefined ? sql`` : sql`and request_time < ${range.end}`}`,
  );
  return Number(found[0].n);
}
