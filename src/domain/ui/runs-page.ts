import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { wireDouble } from '../../lib/json-body.js';
import { textArray } from '../../lib/pg-array.js';
import type { ViewType } from '../../lib/zod-wire.js';
import { experimentIdOf } from '../ids.js';
import { loadRuns, type RunWire } from '../run-read.js';
import { runMatchCondition, runSearchQuery } from '../search/runs-sql.js';

export const RUNS_PAGE_LIMITS = { maxLimit: 1000, defaultLimit: 100, metricRanges: 100 } as const;

export interface RunsPageInput {
  experiment_ids: string[];
  filter?: string;
  run_view_type?: ViewType;
  order_by?: string[];
  offset?: number;
  limit?: number;
  /** Metric keys whose history min and max to return for each run of the page. */
  metric_ranges?: string[];
}

type Double = number | string;
export type MetricRanges = Record<string, Record<string, { min: Double; max: Double }>>;

/**
 * A page of the runs table at any offset, with the number of matches: MLflow's search (same
 * filter and order grammar, same SQL, plus the `min(metrics.x)` / `max(metrics.x)` order terms)
 * addressed by offset, so a virtualized table can jump to any row. The count runs on the search's
 * own WHERE, concurrently with the page.
 */
export async function runsPage(
  deps: Deps,
  input: RunsPageInput,
): Promise<{ runs: RunWire[]; total_count: number; metric_ranges?: MetricRanges }> {
  const experimentIds = input.experiment_ids.map(experimentIdOf);
  const runViewType = input.run_view_type ?? 'ACTIVE_ONLY';
  const offset = input.offset ?? 0;
  const limit = input.limit ?? RUNS_PAGE_LIMITS.defaultLimit;
  // Both build (and so validate) the filter before either touches the database.
  const page = runSearchQuery({ experimentIds, filter: input.filter, runViewType, orderBy: input.order_by, offset, limit, uiTerms: true });
  const where = runMatchCondition({ experimentIds, filter: input.filter, runViewType });
  const [ids, counted] = await Promise.all([
    rows<{ run_id: string }>(deps.db, page),
    rows<{ n: number | string }>(deps.db, sql`select count(*) as n from runs r where ${where}`),
  ]);
  const runIds = ids.map((r) => r.run_id);
  const [runs, ranges] = await Promise.all([
    loadRuns(deps.db, runIds),
    input.metric_ranges ? metricRanges(deps, runIds, input.metric_ranges) : undefined,
  ]);
  return { runs, total_count: Number(counted[0].n), ...(ranges ? { metric_ranges: ranges } : {}) };
}

/** The history min and max of `keys` for each run (runs without any of them are left out). */
async function metricRanges(deps: Deps, runIds: string[], keys: string[]): Promise<MetricRanges> {
  const out: MetricRanges = {};
  if (!runIds.length || !keys.length) return out;
  const found = await rows<{ run_id: string; key: string; lo: number | string | null; hi: number | string | null }>(
    deps.db,
    sql`select run_id, key, min_value as lo, max_value as hi from latest_metrics
        where run_id = any(${textArray(runIds)}::text[]) and key = any(${textArray(keys)}::text[])`,
  );
  for (const f of found) {
    // A row logged before the columns existed and not backfilled has none: shown as no value.
    if (f.lo === null || f.hi === null) continue;
    (out[f.run_id] ??= {})[f.key] = { min: wireDouble(Number(f.lo)), max: wireDouble(Number(f.hi)) };
  }
  return out;
}
