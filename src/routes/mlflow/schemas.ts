import { z } from '@hono/zod-openapi';
import { int64, repeated, viewType } from '../../lib/zod-wire.js';

// Response shapes for the OpenAPI document. Responses are built by the domain layer in MLflow's
// wire form; these schemas describe it (they are not run on the hot path).
const kv = z.object({ key: z.string(), value: z.string() });
const doubleOut = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

export const experimentOut = z
  .object({
    experiment_id: z.string(),
    name: z.string(),
    artifact_location: z.string(),
    lifecycle_stage: z.enum(['active', 'deleted']),
    last_update_time: z.number().int(),
    creation_time: z.number().int(),
    tags: z.array(kv).optional(),
    workspace: z.string().optional(),
  })
  .openapi('Experiment');

export const metricOut = z
  .object({
    key: z.string(),
    value: doubleOut,
    timestamp: z.number().int(),
    step: z.number().int(),
    run_id: z.string().optional(),
    model_id: z.string().optional(),
    dataset_name: z.string().optional(),
    dataset_digest: z.string().optional(),
  })
  .openapi('Metric');

export const runInfoOut = z
  .object({
    run_id: z.string(),
    run_uuid: z.string(),
    run_name: z.string(),
    experiment_id: z.string(),
    user_id: z.string(),
    status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
    start_time: z.number().int().optional(),
    end_time: z.number().int().optional(),
    artifact_uri: z.string(),
    lifecycle_stage: z.enum(['active', 'deleted']),
  })
  .openapi('RunInfo');

const datasetOut = z.object({
  name: z.string(),
  digest: z.string(),
  source_type: z.string(),
  source: z.string(),
  schema: z.string().optional(),
  profile: z.string().optional(),
});

export const runOut = z
  .object({
    info: runInfoOut,
    data: z.object({ metrics: z.array(metricOut).optional(), params: z.array(kv).optional(), tags: z.array(kv).optional() }),
    inputs: z.object({
      dataset_inputs: z.array(z.object({ tags: z.array(kv).optional(), dataset: datasetOut })).optional(),
      model_inputs: z.array(z.object({ model_id: z.string() })).optional(),
    }),
    outputs: z.object({ model_outputs: z.array(z.object({ model_id: z.string(), step: z.number().int() })).optional() }),
  })
  .openapi('Run');

export const empty = z.object({}).openapi('Empty');

/** runs/search's fields: the REST route and MLflow's GraphQL `mlflowSearchRuns` read the same ones. */
export const searchRunsInput = z.object({
  experiment_ids: repeated(z.string()).optional(),
  filter: z.string().optional(),
  run_view_type: viewType.optional(),
  max_results: int64.optional(),
  order_by: repeated(z.string()).optional(),
  page_token: z.string().optional(),
});
