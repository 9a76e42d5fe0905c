import { z } from '@hono/zod-openapi';
import { actorOf } from '../../auth/policy.js';
import { recordActivity, tagActivity } from '../../domain/activity.js';
import { logInputs, logModel, logOutputs } from '../../domain/run-io.js';
import { deleteTag, logBatch } from '../../domain/run-logging.js';
import { LIMITS } from '../../domain/validation.js';
import { double, exactInt64, keyValue, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { withRunId } from './run-id.js';
import { empty } from './schemas.js';

const tag = 'Logging';
const metricFields = {
  key: requiredString,
  value: double,
  timestamp: exactInt64,
  step: exactInt64.optional(),
  model_id: z.string().optional(),
  dataset_name: z.string().optional(),
  dataset_digest: z.string().optional(),
};

export function loggingRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/log-metric', access: 'experiment:edit', tag, summary: 'Log one metric point',
    input: withRunId(metricFields), output: empty,
    handle: (deps, { run_id, ...metric }) => logBatch(deps, run_id, { metrics: [metric] }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/log-parameter', access: 'experiment:edit', tag, summary: 'Log a parameter (immutable once set)',
    input: withRunId({ key: requiredString, value: z.string().optional() }), output: empty,
    handle: (deps, { run_id, key, value }) => logBatch(deps, run_id, { params: [{ key, value }], singleParam: true }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/set-tag', access: 'experiment:edit', tag, summary: 'Set a run tag (mlflow.runName renames the run)',
    input: withRunId({ key: requiredString, value: z.string().optional() }), output: empty,
    handle: async (deps, { run_id, key, value }, c) => {
      await logBatch(deps, run_id, { tags: [{ key, value }] });
      await recordActivity(deps.db, run_id, tagActivity([key]), actorOf(c), deps.now());
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/delete-tag', access: 'experiment:edit', tag, summary: 'Delete a run tag',
    input: withRunId({ key: requiredString }), output: empty,
    handle: async (deps, input, c) => {
      await deleteTag(deps, input.run_id, input.key);
      await recordActivity(deps.db, input.run_id, tagActivity([input.key]), actorOf(c), deps.now());
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/log-batch', access: 'experiment:edit', tag, summary: 'Log up to 1000 metrics, 100 params and 100 tags at once',
    maxBodyBytes: LIMITS.batchBodyBytes,
    input: withRunId({
      // MLflow requires a timestamp on every batch metric (log-metric's own call too).
      metrics: z.array(z.object({ ...metricFields, timestamp: exactInt64 })).optional(),
      params: z.array(keyValue).optional(),
      tags: z.array(keyValue).optional(),
    }),
    output: empty,
    handle: async (deps, { run_id, ...batch }, c) => {
      await logBatch(deps, run_id, batch);
      await recordActivity(deps.db, run_id, tagActivity((batch.tags ?? []).map((t) => t.key)), actorOf(c), deps.now());
    },
  });
  const dataset = z.object({
    name: z.string(),
    digest: z.string(),
    source_type: z.string(),
    source: z.string(),
    schema: z.string().optional(),
    profile: z.string().optional(),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/log-inputs', access: 'experiment:edit', tag, summary: 'Log dataset and model inputs of a run',
    input: withRunId({
      datasets: z.array(z.object({ tags: z.array(keyValue).optional(), dataset })).optional(),
      models: z.array(z.object({ model_id: requiredString })).optional(),
    }),
    output: empty,
    handle: (deps, input) => logInputs(deps, input),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/outputs', access: 'experiment:edit', tag, summary: 'Link logged models to a run as outputs',
    input: withRunId({ models: z.array(z.object({ model_id: requiredString, step: exactInt64.optional() })).min(1) }),
    output: empty,
    handle: (deps, input) => logOutputs(deps, input),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/log-model', access: 'experiment:edit', tag, summary: 'Legacy: record a logged model in the run tag mlflow.log-model.history',
    input: withRunId({ model_json: requiredString }),
    output: empty,
    handle: (deps, input) => logModel(deps, input),
  });
}
