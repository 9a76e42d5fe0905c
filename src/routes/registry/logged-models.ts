import { z } from '@hono/zod-openapi';
import { readableExperimentIds } from '../../auth/filters.js';
import {
  createLoggedModel,
  deleteLoggedModel,
  deleteLoggedModelTag,
  finalizeLoggedModel,
  getLoggedModel,
  logLoggedModelParams,
  setLoggedModelTags,
} from '../../domain/registry/logged-models.js';
import { listLoggedModelArtifacts } from '../../domain/registry/logged-model-artifacts.js';
import { searchLoggedModels } from '../../domain/registry/logged-models-search.js';
import { bool, int64, keyValue, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { empty } from '../mlflow/schemas.js';
import { definePathRoute, methodNotAllowed } from './path-route.js';
import { fileInfoOut, loggedModelOut } from './schemas.js';

const tag = 'Logged models';
const modelOut = z.object({ model: loggedModelOut });
// LoggedModelStatus: an enum name, or its number.
const status = z.union([z.string().min(1), z.number().int()]);

export function loggedModelRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/logged-models', access: 'experiment:edit', tag, summary: 'Create a logged model (PENDING until finalized)',
    input: z.object({
      experiment_id: requiredString,
      name: z.string().optional(),
      model_type: z.string().optional(),
      source_run_id: z.string().optional(),
      params: z.array(keyValue).optional(),
      tags: z.array(keyValue).optional(),
    }),
    output: modelOut,
    handle: async (deps, input) => ({ model: await createLoggedModel(deps, input) }),
  });
  // Registered before /logged-models/{model_id}, which would otherwise take "search" for an id.
  defineRoute(r, {
    method: 'post', path: '/mlflow/logged-models/search', access: 'authenticated', tag, summary: 'Search logged models (filter, datasets, order_by objects, paging)',
    input: z.object({
      experiment_ids: repeated(z.string()),
      filter: z.string().optional(),
      datasets: z.array(z.object({ dataset_name: z.string().optional(), dataset_digest: z.string().optional() })).optional(),
      max_results: int64.optional(),
      order_by: z
        .array(z.object({ field_name: requiredString, ascending: bool.optional(), dataset_name: z.string().optional(), dataset_digest: z.string().optional() }))
        .optional(),
      page_token: z.string().optional(),
    }),
    output: z.object({ models: z.array(loggedModelOut).optional(), next_page_token: z.string().optional() }),
    handle: async (deps, input, c) => {
      const ids = await readableExperimentIds(deps, c, input.experiment_ids);
      if (!ids.length && input.experiment_ids.length) return {};
      return searchLoggedModels(deps, {
        ...input,
        experiment_ids: ids,
        datasets: input.datasets?.map((d) => ({ dataset_name: d.dataset_name ?? '', dataset_digest: d.dataset_digest || undefined })),
      });
    },
  });
  definePathRoute(r, {
    method: 'get', path: '/mlflow/logged-models/{model_id}', access: 'experiment:read', tag, summary: 'Get a logged model (deleted ones with allow_deleted=true)',
    input: z.object({ model_id: requiredString, allow_deleted: bool.optional() }),
    output: modelOut,
    handle: async (deps, input) => ({ model: await getLoggedModel(deps, input.model_id, input.allow_deleted ?? false) }),
  });
  definePathRoute(r, {
    method: 'patch', path: '/mlflow/logged-models/{model_id}', access: 'experiment:edit', tag, summary: 'Finalize a logged model (LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED)',
    input: z.object({ model_id: requiredString, status }),
    output: modelOut,
    handle: async (deps, input) => ({ model: await finalizeLoggedModel(deps, input.model_id, input.status) }),
  });
  definePathRoute(r, {
    method: 'delete', path: '/mlflow/logged-models/{model_id}', access: 'experiment:manage', tag, summary: 'Delete a logged model (soft)',
    input: z.object({ model_id: requiredString }),
    output: empty,
    handle: (deps, input) => deleteLoggedModel(deps, input.model_id),
  });
  methodNotAllowed(r, '/mlflow/logged-models/{model_id}');
  definePathRoute(r, {
    method: 'patch', path: '/mlflow/logged-models/{model_id}/tags', access: 'experiment:edit', tag, summary: 'Set logged model tags',
    input: z.object({ model_id: requiredString, tags: z.array(keyValue).optional() }),
    output: empty,
    handle: (deps, input) => setLoggedModelTags(deps, input.model_id, input.tags),
  });
  methodNotAllowed(r, '/mlflow/logged-models/{model_id}/tags');
  definePathRoute(r, {
    method: 'delete', path: '/mlflow/logged-models/{model_id}/tags/{tag_key+}', access: 'experiment:edit', tag, summary: 'Delete a logged model tag',
    input: z.object({ model_id: requiredString, tag_key: requiredString }),
    output: empty,
    handle: (deps, input) => deleteLoggedModelTag(deps, input.model_id, input.tag_key),
  });
  methodNotAllowed(r, '/mlflow/logged-models/{model_id}/tags/{tag_key+}');
  definePathRoute(r, {
    method: 'post', path: '/mlflow/logged-models/{model_id}/params', access: 'experiment:edit', tag, summary: 'Log logged model params (immutable)',
    input: z.object({ model_id: requiredString, params: z.array(keyValue).optional() }),
    output: empty,
    handle: (deps, input) => logLoggedModelParams(deps, input.model_id, input.params),
  });
  methodNotAllowed(r, '/mlflow/logged-models/{model_id}/params');
  definePathRoute(r, {
    method: 'get', path: '/mlflow/logged-models/{model_id}/artifacts/directories', access: 'experiment:read', tag, summary: "List a logged model's artifact directory",
    input: z.object({ model_id: requiredString, artifact_directory_path: z.string().optional(), page_token: z.string().optional() }),
    output: z.object({ root_uri: z.string(), files: z.array(fileInfoOut).optional(), next_page_token: z.string().optional() }),
    handle: (deps, input) => listLoggedModelArtifacts(deps, input),
  });
  methodNotAllowed(r, '/mlflow/logged-models/{model_id}/artifacts/directories');
}
