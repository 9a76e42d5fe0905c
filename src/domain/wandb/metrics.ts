import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { numberArray, textArray } from '../../lib/pg-array.js';
import { logBatch, type MetricInput } from '../run-logging.js';
import { LIMITS } from '../validation.js';

const pointKey = (m: MetricInput) => `${m.step}\u0000${m.timestamp}\u0000${Number.isNaN(m.value) ? 'NaN' : m.value}\u0000${m.key}`;

/**
 * Logs the points the run does not have yet, through logBatch. The W&B client re-sends lines
 * (retries, `wandb sync` again) and re-serialises them with keys in another order, and the summary
 * repeats values it already had, so points often exist already. logBatch's own answer to a
 * replayed point (a unique violation, then a retry) would abort the caller's transaction, so the
 * known points are left out here first. NaN equals NaN in Postgres, as a replay needs.
 */
export async function logNewMetrics(deps: Deps, runId: string, metrics: MetricInput[]): Promise<void> {
  const unique = new Map<string, MetricInput>();
  for (const m of metrics) unique.set(pointKey(m), m);
  const points = [...unique.values()];
  for (let i = 0; i < points.length; i += LIMITS.batchMetrics) {
    const chunk = points.slice(i, i + LIMITS.batchMetrics);
    const fresh = await rows<{ i: number | string }>(
      deps.db,
      sql`select t.i from unnest(${textArray(chunk.map((m) => m.key))}::text[], ${numberArray(chunk.map((m) => m.step ?? 0))}::bigint[],
                                 ${numberArray(chunk.map((m) => m.timestamp ?? 0))}::bigint[], ${numberArray(chunk.map((m) => m.value))}::float8[])
                  with ordinality as t(key, step, timestamp, value, i)
          where not exists (select 1 from metrics p where p.run_id = ${runId} and p.key = t.key and p.step = t.step
                            and p.timestamp = t.timestamp and p.value = t.value)`,
    );
    const todo = fresh.map((r) => chunk[Number(r.i) - 1]);
    if (todo.length) await logBatch(deps, runId, { metrics: todo });
  }
}
