import type { Deps } from '../deps.js';
import { invalidParam } from '../errors.js';
import { metricHistoryPage, toMetricWire, type MetricWire } from './metric-history.js';

const MAX_RUN_IDS = 100;
const MAX_RESULTS = 25_000;

/**
 * The history of one metric for up to 100 runs (`GET /ajax-api/2.0/mlflow/metrics/get-history-bulk`,
 * which older UI charts call): runs in id order, each run's points by (timestamp, step, value), each
 * point carrying its run_id. A run id that names no run contributes nothing, as in MLflow.
 */
export async function getMetricHistoryBulk(
  deps: Deps,
  input: { run_id: string[]; metric_key?: string; max_results?: number },
): Promise<{ metrics: MetricWire[] }> {
  if (!input.run_id.length) throw invalidParam('GetMetricHistoryBulk request must specify at least one run_id.');
  if (input.run_id.length > MAX_RUN_IDS) {
    throw invalidParam(`GetMetricHistoryBulk request cannot specify more than ${MAX_RUN_IDS} run_ids. Received ${input.run_id.length} run_ids.`);
  }
  if (input.metric_key === undefined) throw invalidParam('GetMetricHistoryBulk request must specify a metric_key.');
  const limit = Math.max(0, Math.min(input.max_results ?? MAX_RESULTS, MAX_RESULTS));
  const metrics: MetricWire[] = [];
  for (const runId of [...input.run_id].sort()) {
    if (!limit) break;
    const page = await metricHistoryPage(deps.db, runId, input.metric_key, limit);
    const points = page.map((r) => {
      const w = toMetricWire(r);
      return { key: w.key, value: w.value, timestamp: w.timestamp, step: w.step, run_id: runId } as MetricWire;
    });
    points.sort((a, b) => cmp(a.timestamp, b.timestamp) || cmp(a.step, b.step) || cmp(a.value, b.value));
    metrics.push(...points);
  }
  return { metrics };
}

function cmp(a: unknown, b: unknown): number {
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
