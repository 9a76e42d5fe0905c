import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import type { MetricInput } from '../run-logging.js';
import { isValidMlflowKey } from './config-params.js';
import { logNewMetrics } from './metrics.js';
import { flattenRow, numericLeaves } from './flatten.js';
import { parseWandbObject } from './json.js';

/**
 * Replaces the run's summary with the one the client sent (the summary line always carries the
 * whole summary). Numeric summary values the history never had (`run.summary["best"] = …`) are
 * mirrored as MLflow metrics when they change; keys that are in the history have their metric.
 */
export async function applySummary(deps: Deps, runId: string, text: string): Promise<void> {
  const summary = parseWandbObject(text, 'summary');
  const [run] = await rows<{ summary: string; history_keys: string; last_step: number | string | null }>(
    deps.db,
    sql`select summary, history_keys, last_step from wandb_runs where run_id = ${runId}`,
  );
  if (!run || run.summary === text) return;
  await deps.db.execute(sql`update wandb_runs set summary = ${text} where run_id = ${runId}`);
  const historyKeys = JSON.parse(run.history_keys) as Record<string, unknown>;
  const before = flattenRow(parseWandbObject(run.summary, 'summary'));
  const same = (a: unknown, b: number) => a === b || (typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b));
  const step = Number.isSafeInteger(summary._step) ? (summary._step as number) : run.last_step === null ? 0 : Number(run.last_step);
  const timestamp = secondsToMs(summary._timestamp) ?? deps.now();
  const metrics: MetricInput[] = [];
  for (const [key, value] of numericLeaves(flattenRow(summary))) {
    if (key in historyKeys || same(before[key], value) || !isValidMlflowKey('Metric', key)) continue;
    metrics.push({ key, value, step, timestamp });
  }
  await logNewMetrics(deps, runId, metrics);
}

/** A W&B `_timestamp` (unix seconds, float) as MLflow's ms, or undefined when absent or absurd. */
export function secondsToMs(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e11) return undefined;
  return Math.round(v * 1000);
}
