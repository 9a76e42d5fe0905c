import { z } from '@hono/zod-openapi';
import {
  createExperiment,
  deleteExperimentTag,
  getExperiment,
  getExperimentByName,
  renameExperiment,
  searchExperiments,
  setExperimentLifecycle,
  setExperimentTag,
} from '../../domain/experiments.js';
import { int64, keyValue, repeated, requiredString, viewType } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { empty, experimentOut } from './schemas.js';

const tag = 'Experiments';
const experimentId = z.object({ experiment_id: requiredString });

export function experimentRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/create', tag, summary: 'Create an experiment',
    input: z.object({ name: requiredString, artifact_location: z.string().optional(), tags: z.array(keyValue).optional() }),
    output: z.object({ experiment_id: z.string() }),
    handle: async (deps, input) => ({ experiment_id: await createExperiment(deps, input) }),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/experiments/get', tag, summary: 'Get an experiment by id (deleted ones too)',
    input: experimentId,
    output: z.object({ experiment: experimentOut }),
    handle: async (deps, input) => ({ experiment: await getExperiment(deps, input.experiment_id) }),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/experiments/get-by-name', tag, summary: 'Get an experiment by name',
    input: z.object({ experiment_name: requiredString }),
    output: z.object({ experiment: experimentOut }),
    handle: async (deps, input) => ({ experiment: await getExperimentByName(deps, input.experiment_name) }),
  });
  const searchInput = z.object({
    max_results: int64.optional(),
    page_token: z.string().optional(),
    filter: z.string().optional(),
    order_by: repeated(z.string()).optional(),
    view_type: viewType.optional(),
  });
  const searchOutput = z.object({ experiments: z.array(experimentOut).optional(), next_page_token: z.string().optional() });
  for (const method of ['post', 'get'] as const) {
    defineRoute(r, {
      method, path: '/mlflow/experiments/search', tag, summary: 'Search experiments (filter, order_by, paging)',
      input: searchInput,
      output: searchOutput,
      handle: (deps, input) => searchExperiments(deps, input),
    });
  }
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/update', tag, summary: 'Rename an experiment',
    input: z.object({ experiment_id: requiredString, new_name: requiredString }),
    output: empty,
    handle: async (deps, input) => renameExperiment(deps, input.experiment_id, input.new_name),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/delete', tag, summary: 'Delete an experiment and its runs (restorable)',
    input: experimentId, output: empty,
    handle: (deps, input) => setExperimentLifecycle(deps, input.experiment_id, 'deleted'),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/restore', tag, summary: 'Restore a deleted experiment and its runs',
    input: experimentId, output: empty,
    handle: (deps, input) => setExperimentLifecycle(deps, input.experiment_id, 'active'),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/set-experiment-tag', tag, summary: 'Set an experiment tag',
    input: z.object({ experiment_id: requiredString, key: requiredString, value: z.string().optional() }),
    output: empty,
    handle: (deps, input) => setExperimentTag(deps, input.experiment_id, input.key, input.value ?? ''),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/delete-experiment-tag', tag, summary: 'Delete an experiment tag',
    input: z.object({ experiment_id: requiredString, key: requiredString }),
    output: empty,
    handle: (deps, input) => deleteExperimentTag(deps, input.experiment_id, input.key),
  });
}
