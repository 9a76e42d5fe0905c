import { z } from '@hono/zod-openapi';
import { metricSeries, SERIES_LIMITS } from '../../domain/ui/series.js';
import { defineRoute, type Router } from '../define.js';
import { boundedInt, doubleOut, finiteNumber, tag } from './schemas.js';

const point = z.object({
  x: z.number(),
  step: z.number().int(),
  timestamp: z.number().int(),
  value: doubleOut,
  min: doubleOut,
  max: doubleOut,
  count: z.number().int(),
});

const series = z
  .object({
    run_id: z.string(),
    key: z.string(),
    total_points: z.number().int(),
    x_min: z.number().nullable(),
    x_max: z.number().nullable(),
    downsampled: z.boolean(),
    points: z.array(point),
  })
  .openapi('UiMetricSeries');

export function seriesRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/cairn/ui/metrics/series', tag,
    summary:
      'Metric histories downsampled for charts: per series, `buckets` x columns of equal width, each with its last point, ' +
      'the min and max of its values and its point count (raw points when there are no more than `buckets`)',
    input: z.object({
      run_ids: z.array(z.string().min(1)).min(1).max(SERIES_LIMITS.runs),
      keys: z.array(z.string().min(1)).min(1).max(SERIES_LIMITS.keys),
      x_axis: z.enum(['step', 'timestamp']).optional(),
      buckets: boundedInt(1, SERIES_LIMITS.buckets).optional(),
      x_min: finiteNumber.optional(),
      x_max: finiteNumber.optional(),
    }),
    output: z.object({ series: z.array(series) }),
    handle: (deps, input) => metricSeries(deps, input),
  });
}
