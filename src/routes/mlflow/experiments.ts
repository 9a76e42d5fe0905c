import { z } from '@hono/zod-openapi';
import { filterExperiments } from '../../auth/filters.js';
import { grantCreator } from '../../auth/grants.js';
import { principalOf } from '../../auth/policy.js';
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
    method: 'post', path: '/mlflow/experiments/create', access: 'authenticated', tag, summary: 'Create an experiment',
    input: z.object({ name: requiredString, artifact_location: z.string().optional(), tags: z.array(keyValue).optional() }),
    output: z.object({ experiment_id: z.string() }),
    handle: async (deps, input, c) => {
      const id = await createExperiment(deps, input);
      await grantCreator(deps, principalOf(c), 'experiment', Number(id));
      return { experiment_id: id };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/experiments/get', access: 'experiment:read', tag, summary: 'Get an experiment by id (deleted ones too)',
    input: experimentId,
    output: z.object({ experiment: experimentOut }),
    handle: async (deps, input) => ({ experiment: await getExperiment(deps, input.experiment_id) }),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/experiments/get-by-name', access: 'experiment:read', tag, summary: 'Get an experiment by name',
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
      method, path: '/mlflow/experiments/search', access: 'authenticated', tag, summary: 'Search experiments (filter, order_by, paging)',
      input: searchInput,
      output: searchOutput,
      handle: async (deps, input, c) => {
        const found = await searchExperiments(deps, input);
        return { ...found, experiments: await filterExperiments(deps, c, found.experiments) };
      },
    });
  }
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/update', access: 'experiment:edit', tag, summary: 'Rename an experiment',
    input: z.object({ experiment_id: requiredString, new_name: requiredString }),
    output: empty,
    handle: async (deps, input) => renameExperiment(deps, input.experiment_id, input.new_name),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/delete', access: 'experiment:manage', tag, summary: 'Delete an experiment and its runs (restorable)',
    input: experimentId, output: empty,
    handle: (deps, input) => setExperimentLifecycle(deps, input.experiment_id, 'deleted'),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/restore', access: 'experiment:manage', tag, summary: 'Restore a deleted experiment and its runs',
    input: experimentId, output: empty,
    handle: (deps, input) => setExperimentLifecycle(deps, input.experiment_id, 'active'),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/set-experiment-tag', access: 'experiment:edit', tag, summary: 'Set an experiment tag',
    input: z.object({ experiment_id: requiredString, key: requiredString, value: z.string().optional() }),
    output: empty,
    handle: (deps, input) => setExperimentTag(deps, input.experiment_id, input.key, input.value ?? ''),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/experiments/delete-experiment-tag', access: 'experiment:edit', tag, summary: 'Delete an experiment tag',
    input: z.object({ experiment_id: requiredString, key: requiredString }),
    output: empty,
    handle: (deps, input) => deleteExperimentTag(deps, input.experiment_id, input.key),
  });
}
