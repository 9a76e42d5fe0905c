import { z } from '@hono/zod-openapi';
import { experimentColumns } from '../../domain/ui/columns.js';
import { GROUP_LIMITS, runGroups } from '../../domain/ui/runs-groups.js';
import { RUNS_PAGE_LIMITS, runsPage } from '../../domain/ui/runs-page.js';
import { repeated, viewType } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { runOut } from '../mlflow/schemas.js';
import { boundedInt, doubleOut, tag } from './schemas.js';

const experimentIds = repeated(z.string()).pipe(z.array(z.string()).min(1).max(1000));
const search = {
  experiment_ids: experimentIds,
  filter: z.string().max(100_000).optional(),
  run_view_type: viewType.optional(),
};

const aggregate = z.object({ min: doubleOut, max: doubleOut, mean: doubleOut });

export function runTableRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/cairn/ui/runs/search', access: 'experiment:read', tag,
    summary:
      "A page of runs at any offset, with the number of runs matching the filter (MLflow's filter and order_by grammar, " +
      'plus order_by terms min(metrics.<key>) and max(metrics.<key>) over the whole history, attributes.duration and attributes.experiment_id)',
    input: z.object({
      ...search,
      order_by: repeated(z.string()).pipe(z.array(z.string()).max(20)).optional(),
      offset: boundedInt(0, Number.MAX_SAFE_INTEGER).optional(),
      limit: boundedInt(1, RUNS_PAGE_LIMITS.maxLimit).optional(),
      metric_ranges: z
        .array(z.string().min(1).max(250))
        .max(RUNS_PAGE_LIMITS.metricRanges)
        .optional()
        .openapi({ description: "Metric keys whose history min and max to return per run (in metric_ranges)" }),
    }),
    output: z.object({
      runs: z.array(runOut),
      total_count: z.number().int(),
      metric_ranges: z
        .record(z.string(), z.record(z.string(), z.object({ min: doubleOut, max: doubleOut })))
        .optional()
        .openapi({ description: 'run id -> metric key -> least and greatest value of its history (NaN left out)' }),
    }),
    handle: (deps, input) => runsPage(deps, input),
  });

  defineRoute(r, {
    method: 'post', path: '/cairn/ui/runs/groups', access: 'experiment:read', tag,
    summary:
      'Matching runs grouped by a param, tag or attribute value, with run counts and min/max/mean of metrics (latest values). ' +
      "W&B's group and job type are the tags wandb.group and wandb.job_type",
    input: z.object({
      ...search,
      group_by: z.object({ kind: z.enum(['param', 'tag', 'attribute']), key: z.string().min(1).max(250) }),
      metrics: z.array(z.string()).max(GROUP_LIMITS.metrics).optional(),
    }),
    output: z.object({
      groups: z.array(z.object({ value: z.string().nullable(), run_count: z.number().int(), metrics: z.record(z.string(), aggregate) })),
      truncated: z.boolean(),
    }),
    handle: (deps, input) => runGroups(deps, input),
  });

  defineRoute(r, {
    method: 'get', path: '/cairn/ui/experiments/columns', access: 'experiment:read', tag,
    summary: "Distinct param, metric and tag keys over the experiments' runs (sorted, each list capped at 10,000)",
    input: z.object({ experiment_ids: experimentIds, run_view_type: viewType.optional() }),
    output: z.object({ params: z.array(z.string()), metrics: z.array(z.string()), tags: z.array(z.string()), truncated: z.boolean() }),
    handle: (deps, input) => experimentColumns(deps, input),
  });
}
