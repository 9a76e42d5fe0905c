import { z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { getMetricHistory, getMetricHistoryBulkInterval, streamMetricHistory } from '../../domain/metric-history.js';
import { int64, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { withRunId } from './run-id.js';
import { metricOut } from './schemas.js';

const tag = 'Metrics';

export function metricRoutes(r: Router): void {
  defineRoute(r, {
    method: 'get', path: '/mlflow/metrics/get-history', access: 'experiment:read', tag,
    summary: 'Full history of one metric; paged with max_results/page_token, streamed whole without them',
    input: withRunId({ metric_key: requiredString, max_results: int64.optional(), page_token: z.string().optional() }),
    output: z.object({ metrics: z.array(metricOut).optional(), next_page_token: z.string().optional() }),
    handle: async (deps, input, c) => {
      if (input.max_results !== undefined || input.page_token) return getMetricHistory(deps, input);
      const chunks = streamMetricHistory(deps, input.run_id, input.metric_key);
      // Pull the first chunk before committing to a 200, so a missing run is still a clean 404.
      const first = await chunks.next();
      c.header('Content-Type', 'application/json');
      return stream(c, async (s) => {
        if (!first.done) await s.write(first.value);
        for await (const chunk of chunks) await s.write(chunk);
      });
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/metrics/get-history-bulk-interval', access: 'experiment:read', tag,
    summary: 'Evenly sampled history of one metric across up to 100 runs (charts)',
    input: z.object({
      run_ids: repeated(z.string()),
      metric_key: requiredString,
      start_step: int64.optional(),
      end_step: int64.optional(),
      max_results: int64.optional(),
    }),
    output: z.object({ metrics: z.array(metricOut).optional() }),
    handle: (deps, input) => getMetricHistoryBulkInterval(deps, input),
  });
}
