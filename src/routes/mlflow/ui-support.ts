import { z } from '@hono/zod-openapi';
import { searchDatasetSummaries } from '../../domain/dataset-summaries.js';
import { getMetricHistoryBulk } from '../../domain/metric-history-bulk.js';
import { queryTraceMetrics, type ViewType } from '../../domain/traces/metrics.js';
import { int64, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { metricOut } from './schemas.js';

const tag = 'UI support';
const anyObject = z.object({}).passthrough();

// Proto enums arrive by name (the client's JSON) or by number.
const VIEW_TYPES = ['TRACES', 'SPANS', 'ASSESSMENTS'] as const satisfies readonly ViewType[];
const AGGREGATIONS = ['COUNT', 'SUM', 'AVG', 'PERCENTILE', 'MIN', 'MAX'] as const;
const enumOf = <T extends string>(names: readonly [T, ...T[]]) =>
  z.union([z.enum(names), z.number().int().min(1).max(names.length)]).transform((v) => (typeof v === 'number' ? names[v - 1] : v));

/**
 * Endpoints MLflow's web UI calls on every page. The data ones (dataset summaries, bulk metric
 * history) are answered from the store; the ones for families Cairn does not have yet (issues,
 * the assistant, the AI gateway, UI telemetry) answer what MLflow's server answers on a store
 * holding none of them, so the UI shows its empty states instead of waiting forever.
 */
export function uiSupportRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/search-datasets', access: 'experiment:read', tag,
    summary: 'Distinct datasets logged as run inputs in up to 20 experiments (runs table filter)',
    input: z.object({ experiment_ids: repeated(z.string()).default([]) }),
    output: z.object({
      dataset_summaries: z
        .array(z.object({ experiment_id: z.string(), name: z.string(), digest: z.string(), context: z.string().optional() }))
        .optional(),
    }),
    handle: (deps, input) => searchDatasetSummaries(deps, input.experiment_ids),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/metrics/get-history-bulk', access: 'experiment:read', tag,
    summary: 'History of one metric for up to 100 runs, each point with its run_id (older UI charts)',
    input: z.object({ run_id: repeated(z.string()).default([]), metric_key: z.string().optional(), max_results: int64.optional() }),
    output: z.object({ metrics: z.array(metricOut) }),
    handle: (deps, input) => getMetricHistoryBulk(deps, input),
  });

  const empty = (method: 'get' | 'post', path: string, version: '2.0' | '3.0', summary: string, input: z.ZodType, body: (input: unknown) => object) =>
    defineRoute(r, { method, path, version, access: 'authenticated', tag, summary, input, output: anyObject, handle: (_deps, input) => body(input) });

  // Required fields are checked as MLflow checks them, so a malformed call is still refused.
  const experimentIds = z.object({ experiment_ids: repeated(z.string()).refine((v) => v.length > 0, 'Missing value') });
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces/metrics', version: '3.0', access: 'experiment:read', tag,
    summary: "Trace metrics (QueryTraceMetrics, the UI Overview's charts): the traces, spans and assessments views, per time bucket and dimension",
    input: experimentIds.extend({
      view_type: enumOf(VIEW_TYPES).optional(),
      metric_name: requiredString,
      aggregations: z.array(z.object({ aggregation_type: enumOf(AGGREGATIONS), percentile_value: z.number().optional() })).min(1, 'Missing value'),
      dimensions: repeated(z.string()).default([]),
      filters: repeated(z.string()).default([]),
      time_interval_seconds: int64.optional(),
      start_time_ms: int64.optional(),
      end_time_ms: int64.optional(),
      max_results: int64.optional(),
      page_token: z.string().optional(),
    }),
    output: z.object({ data_points: z.array(z.object({ metric_name: z.string(), dimensions: z.record(z.string(), z.string()).optional(), values: z.record(z.string(), z.number()) })).optional() }),
    handle: async (deps, i) => {
      const points = await queryTraceMetrics(deps, {
        experimentIds: i.experiment_ids,
        viewType: i.view_type ?? 'TRACES',
        metricName: i.metric_name,
        aggregations: i.aggregations.map((a) => ({ type: a.aggregation_type, percentile: a.percentile_value })),
        dimensions: i.dimensions,
        filters: i.filters,
        intervalSeconds: i.time_interval_seconds,
        startMs: i.start_time_ms,
        endMs: i.end_time_ms,
        maxResults: Math.max(1, Math.min(i.max_results ?? 1000, 1000)),
      });
      return points.length ? { data_points: points } : {};
    },
  });
  empty('post', '/mlflow/issues/search', '3.0', 'Detected issues: none', anyObject, () => ({ next_page_token: '' }));
  empty('get', '/mlflow/assistant/config', '3.0', 'The UI assistant: not available in Cairn', anyObject,
    () => ({ providers: {}, projects: {}, remote_access_allowed: false, can_edit_server_settings: false }));
  empty('get', '/mlflow/assistant/providers', '3.0', 'The UI assistant: no providers', anyObject, () => ({ providers: [] }));
  empty('get', '/mlflow/gateway-proxy', '2.0', 'The AI gateway: no endpoints configured', anyObject, () => ({ endpoints: [] }));
  empty('post', '/mlflow/gateway-proxy', '2.0', 'The AI gateway: no endpoints configured', anyObject, () => ({ endpoints: [] }));
  empty('get', '/mlflow/ui-telemetry', '3.0', 'UI telemetry: disabled', anyObject,
    () => ({ disable_ui_events: [], disable_ui_telemetry: true, ui_rollout_percentage: 0 }));
  empty('post', '/mlflow/ui-telemetry', '3.0', 'UI telemetry: disabled, records discarded', anyObject, () => ({ status: 'disabled' }));
}
