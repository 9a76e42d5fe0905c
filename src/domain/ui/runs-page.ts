import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import type { ViewType } from '../../lib/zod-wire.js';
import { experimentIdOf } from '../ids.js';
import { loadRuns, type RunWire } from '../run-read.js';
import { runMatchCondition, runSearchQuery } from '../search/runs-sql.js';

export const RUNS_PAGE_LIMITS = { maxLimit: 1000, defaultLimit: 100 } as const;

export interface RunsPageInput {
  experiment_ids: string[];
  filter?: string;
  run_view_type?: ViewType;
  order_by?: string[];
  offset?: number;
  limit?: number;
}

/**
 * A page of the runs table at any offset, with the number of matches: MLflow's search (same
 * filter and order grammar, same SQL) addressed by offset, so a virtualized table can jump to any
 * row. The count runs on the search's own WHERE, concurrently with the page.
 */
export async function runsPage(deps: Deps, input: RunsPageInput): Promise<{ runs: RunWire[]; total_count: number }> {
  const experimentIds = input.experiment_ids.map(experimentIdOf);
  const runViewType = input.run_view_type ?? 'ACTIVE_ONLY';
  const offset = input.offset ?? 0;
  const limit = input.limit ?? RUNS_PAGE_LIMITS.defaultLimit;
  // Both build (and so validate) the filter before either touches the database.
  const page = runSearchQuery({ experimentIds, filter: input.filter, runViewType, orderBy: input.order_by, offset, limit });
  const where = runMatchCondition({ experimentIds, filter: input.filter, runViewType });
  const [ids, counted] = await Promise.all([
    rows<{ run_id: string }>(deps.db, page),
    rows<{ n: number | string }>(deps.db, sql`select count(*) as n from runs r where ${where}`),
  ]);
  return { runs: await loadRuns(deps.db, ids.map((r) => r.run_id)), total_count: Number(counted[0].n) };
}
