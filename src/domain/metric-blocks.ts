import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { textArray } from '../lib/pg-array.js';

// Per-block summaries of metric histories (table metric_blocks, see src/db/schema/metrics.ts): a
// chart of a long history reads one row per block of 32 steps instead of every point.

/** A block is 2^5 = 32 steps: `step >> 5` is floor(step / 32) for negative steps too, in exact bigint. */
export const BLOCK_SHIFT = 5;
export const BLOCK_STEPS = 1 << BLOCK_SHIFT;

/**
 * The block rows of a relation `src(key, step, timestamp, value)` of one run: count, min and max (NaN
 * left out, null when a block is NaN only) and the last point by (step, timestamp, value).
 */
function blockSummaries(runId: string, src: SQL): SQL {
  return sql`select distinct on (f.key, f.block) ${runId}::text as run_id, f.key, f.block, a.n, a.lo, a.hi, f.step, f.timestamp, f.value
    from (select key, step, timestamp, value, step >> ${sql.raw(String(BLOCK_SHIFT))} as block from ${src}) f
    join (select key, step >> ${sql.raw(String(BLOCK_SHIFT))} as block, count(*)::int as n,
                 min(value) filter (where value <> 'NaN'::float8) as lo, max(value) filter (where value <> 'NaN'::float8) as hi
          from ${src} group by 1, 2) a on a.key = f.key and a.block = f.block
    order by f.key, f.block, f.step desc, f.timestamp desc, f.value desc`;
}

const newerLast = sql.raw(
  '(excluded.last_step, excluded.last_timestamp, excluded.last_value) > (metric_blocks.last_step, metric_blocks.last_timestamp, metric_blocks.last_value)',
);

/**
 * CTEs to append to a statement whose CTE `ins` is the history insert `returning key, step,
 * timestamp, value, (xmax = 0) as fresh`: the blocks of the rows it really inserted are added to the
 * summaries. A replayed point is not returned by ON CONFLICT DO NOTHING, and a point only relinked
 * to a model (ON CONFLICT DO UPDATE) comes back with fresh = false, so a retry changes nothing.
 */
export function blockWrites(runId: string): SQL {
  return sql`
    blocks as (
      insert into metric_blocks (run_id, key, block, count, min_value, max_value, last_step, last_timestamp, last_value)
      ${blockSummaries(runId, sql`(select key, step, timestamp, value from ins where fresh) as fresh`)}
      on conflict (run_id, key, block) do update set
        count = metric_blocks.count + excluded.count,
        min_value = least(metric_blocks.min_value, excluded.min_value),
        max_value = greatest(metric_blocks.max_value, excluded.max_value),
        last_step = case when ${newerLast} then excluded.last_step else metric_blocks.last_step end,
        last_timestamp = case when ${newerLast} then excluded.last_timestamp else metric_blocks.last_timestamp end,
        last_value = case when ${newerLast} then excluded.last_value else metric_blocks.last_value end)`;
}

export interface SeriesRef {
  runId: string;
  key: string;
}

/**
 * Which of the given histories have complete block summaries, building them first for histories
 * logged before the table existed (latest_metrics.blocks_ready false): once per history, from its
 * raw rows, under the latest_metrics row's lock, which every writer of that history also takes. A
 * build that fails (it met a concurrent writer's block rows) leaves the history unsummarized: the chart
 * reads its raw rows this time and the next call tries again.
 */
export async function readyBlocks(deps: Deps, series: SeriesRef[]): Promise<Set<string>> {
  const ready = new Set<string>();
  if (!series.length) return ready;
  const found = await rows<{ run_id: string; key: string; blocks_ready: boolean }>(
    deps.db,
    sql`select l.run_id, l.key, l.blocks_ready from latest_metrics l
        join unnest(${textArray(series.map((s) => s.runId))}::text[], ${textArray(series.map((s) => s.key))}::text[]) as s(run_id, key)
          on l.run_id = s.run_id and l.key = s.key`,
  );
  for (const r of found) {
    if (r.blocks_ready || (await buildBlocks(deps, r.run_id, r.key))) ready.add(seriesId(r.run_id, r.key));
  }
  return ready;
}

export const seriesId = (runId: string, key: string) => `${runId}\u0000${key}`;

async function buildBlocks(deps: Deps, runId: string, key: string): Promise<boolean> {
  try {
    await deps.db.transaction(async (tx) => {
      // A writer of the history may hold block rows while it waits for our latest_metrics lock: give
      // up (well before the 1 s deadlock check, which would abort the writer) instead of waiting.
      if (deps.database.kind !== 'pglite') await tx.execute(sql`set local lock_timeout = '200ms'`);
      const todo = await rows(tx, sql`select 1 from latest_metrics where run_id = ${runId} and key = ${key} and not blocks_ready for update`);
      if (!todo.length) return; // built meanwhile by another call
      await build(tx, runId, key);
    });
    return true;
  } catch (err) {
    deps.log.warn('metric blocks not built; charting raw points', { run_id: runId, key, error: String((err as Error)?.message ?? err) });
    return false;
  }
}

async function build(tx: Orm, runId: string, key: string): Promise<void> {
  // Writes from before the build may have added partial blocks: replace them all.
  await tx.execute(sql`delete from metric_blocks where run_id = ${runId} and key = ${key}`);
  await tx.execute(sql`
    insert into metric_blocks (run_id, key, block, count, min_value, max_value, last_step, last_timestamp, last_value)
    ${blockSummaries(runId, sql`(select key, step, timestamp, value from metrics where run_id = ${runId} and key = ${key}) as h`)}`);
  await tx.execute(sql`update latest_metrics set blocks_ready = true where run_id = ${runId} and key = ${key}`);
}
