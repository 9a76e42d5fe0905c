import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { decodeOffsetToken, encodeOffsetToken } from '../lib/page-token.js';
import type { ViewType } from '../lib/zod-wire.js';
import { experimentIdOf } from './ids.js';
import { loadRuns, type RunWire } from './run-read.js';
import { firstOrderMetric, runSearchQuery } from './search/runs-sql-old.js';
import { LIMITS, validateMaxResults } from './validation.js';

export type RunQuery = Omit<Parameters<typeof runSearchQuery>[0], 'offset' | 'limit' | 'tier'>;
type Db = Deps['db'];

export async function searchRuns(
  deps: Deps,
  input: { experiment_ids?: string[]; filter?: string; run_view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string },
): Promise<{ runs?: RunWire[]; next_page_token?: string }> {
  const limit = validateMaxResults(input.max_results, LIMITS.searchRunsMaxResults, 1000);
  const offset = decodeOffsetToken(input.page_token);
  const experimentIds = (input.experiment_ids ?? []).map(experimentIdOf);
  if (!experimentIds.length) return {};
  const query: RunQuery = { experimentIds, filter: input.filter, runViewType: input.run_view_type ?? 'ACTIVE_ONLY', orderBy: input.order_by };
  // One more id than asked for tells whether another page exists without a count query.
  const ids = await searchRunIds(deps.db, query, offset, limit + 1);
  const runs = await loadRuns(deps.db, ids.slice(0, limit).map((r) => r.run_id));
  const out: { runs?: RunWire[]; next_page_token?: string } = {};
  if (runs.length) out.runs = runs;
  if (ids.length > limit) out.next_page_token = encodeOffsetToken(offset + limit);
  return out;
}

/** The ids of one page of a run search, in order. */
export async function searchRunIds(db: Db, query: RunQuery, offset: number, limit: number): Promise<{ run_id: string }[]> {
  if (firstOrderMetric(query.filter, query.orderBy)) return tieredIds(db, query, offset, limit);
  return rows<{ run_id: string }>(db, runSearchQuery({ ...query, offset, limit }));
}

/**
 * Ordered by a metric first: the runs with a number for it, then (only when the page reaches past
 * them) those with NaN or none, as runSearchQuery's `tier` describes. The same rows and order as one
 * untiered query; usually one statement, two when the page straddles the tiers, and a count of the
 * first tier when the page starts beyond it.
 */
async function tieredIds(db: Db, query: RunQuery, offset: number, limit: number): Promise<{ run_id: string }[]> {
  const valued = await rows<{ run_id: string }>(db, runSearchQuery({ ...query, tier: 'valued', offset, limit }));
  if (valued.length === limit) return valued;
  let valuedCount = offset + valued.length;
  if (!valued.length && offset > 0) {
    const all = runSearchQuery({ ...query, tier: 'valued', offset: 0, limit: Number.MAX_SAFE_INTEGER });
    [{ n: valuedCount }] = await rows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM (${all}) t`);
  }
  const rest = await rows<{ run_id: string }>(
    db,
    runSearchQuery({ ...query, tier: 'unvalued', offset: Math.max(0, offset - valuedCount), limit: limit - valued.length }),
  );
  return [...valued, ...rest];
}
