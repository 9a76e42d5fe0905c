import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import type { ViewType } from '../../lib/zod-wire.js';
import { experimentIdOf } from '../ids.js';
import { runMatchCondition } from '../search/runs-sql.js';

export const MAX_COLUMN_KEYS = 10_000;

// Table names come only from here.
const TABLES = { params: 'params', metrics: 'latest_metrics', tags: 'run_tags' } as const;

/**
 * The distinct param, metric and tag keys over the experiments' runs, for the column picker and the
 * filter's key completion. Sorted by code point (as search sorts text), each list capped.
 */
export async function experimentColumns(
  deps: Deps,
  input: { experiment_ids: string[]; run_view_type?: ViewType },
): Promise<{ params: string[]; metrics: string[]; tags: string[]; truncated: boolean }> {
  const where = runMatchCondition({ experimentIds: input.experiment_ids.map(experimentIdOf), runViewType: input.run_view_type ?? 'ACTIVE_ONLY' });
  const [params, metrics, tags] = await Promise.all(
    (Object.keys(TABLES) as (keyof typeof TABLES)[]).map((kind) =>
      rows<{ key: string }>(
        deps.db,
        sql`select k.key from runs r join ${sql.raw(TABLES[kind])} k on k.run_id = r.run_id where ${where}
            group by k.key order by k.key collate "C" limit ${MAX_COLUMN_KEYS + 1}`,
      ),
    ),
  );
  const truncated = [params, metrics, tags].some((l) => l.length > MAX_COLUMN_KEYS);
  const keys = (l: { key: string }[]) => l.slice(0, MAX_COLUMN_KEYS).map((r) => r.key);
  return { params: keys(params), metrics: keys(metrics), tags: keys(tags), truncated };
}
