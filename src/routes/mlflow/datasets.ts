import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { permissionDenied, principalOf } from '../../auth/policy.js';
import { isUnrestricted } from '../../auth/principal.js';
import type { Deps } from '../../deps.js';
import { deleteDatasetRecords, getDatasetRecords, upsertDatasetRecords } from '../../domain/genai/dataset-records.js';
import {
  addDatasetToExperiments,
  createDataset,
  datasetExperimentIds,
  deleteDataset,
  deleteDatasetTag,
  getDataset,
  removeDatasetFromExperiments,
  searchDatasets,
  setDatasetTags,
} from '../../domain/genai/datasets.js';
import { linkedExperimentsOf } from '../../domain/genai/dataset-links.js';
import { int64, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { definePathRoute, type PathRouteDef } from '../registry/path-route.js';
import { empty } from './schemas.js';

// Evaluation datasets (MLflow 3 /api/3.0/mlflow/datasets/*). Access follows the experiments a
// dataset is linked to (auth/resources.ts resolves `dataset_id`): reading needs READ on each of
// them, writing EDIT, deleting MANAGE. As in MLflow's basic-auth app, a dataset linked to none is
// for admins only, and creating, searching or linking must name the experiments it is about.

const tag = 'Evaluation datasets';
const dataset = z
  .object({
    dataset_id: z.string(),
    name: z.string(),
    tags: z.string().openapi({ description: 'JSON object, as text' }),
    schema: z.string().optional(),
    profile: z.string().optional(),
    digest: z.string(),
    created_time: z.number().int(),
    last_update_time: z.number().int(),
    created_by: z.string().optional(),
    last_updated_by: z.string().optional(),
    experiment_ids: z.array(z.string()).optional(),
  })
  .openapi('EvaluationDataset');
const out = z.object({ dataset });
const byId = z.object({ dataset_id: requiredString });
const one = '/mlflow/datasets/{dataset_id}';
const ids = repeated(z.string()).default([]);

export function datasetRoutes(r: Router): void {
  // The routes naming a dataset: an unlinked one is refused (requireLinked) before the handler runs.
  const byIdRoute = <S extends z.ZodType<{ dataset_id: string }>, R>(def: PathRouteDef<S, R>): void =>
    definePathRoute(r, {
      ...def,
      handle: async (deps, i, c) => {
        await requireLinked(deps, c, i.dataset_id);
        return def.handle(deps, i, c);
      },
    });
  defineRoute(r, {
    method: 'post', path: '/mlflow/datasets/create', version: '3.0', access: 'experiment:edit', tag,
    summary: 'Create an evaluation dataset, optionally linked to experiments (`tags` is a JSON object as text)',
    input: z.object({ name: requiredString, experiment_ids: ids, tags: z.string().optional() }),
    output: out,
    handle: async (deps, i, c) => {
      requireNamed(c, i.experiment_ids);
      return { dataset: await createDataset(deps, i) };
    },
  });
  for (const method of ['post', 'get'] as const) {
    defineRoute(r, {
      method, path: '/mlflow/datasets/search', version: '3.0', access: 'experiment:read', tag,
      summary: 'Search evaluation datasets (filter on name, created_time, last_update_time, created_by, last_updated_by, tags.<key>)',
      input: z.object({
        experiment_ids: ids,
        filter_string: z.string().optional(),
        max_results: int64.optional(),
        order_by: repeated(z.string()).optional(),
        page_token: z.string().optional(),
      }),
      output: z.object({ datasets: z.array(dataset).optional(), next_page_token: z.string().optional() }),
      handle: async (deps, i, c) => {
        requireNamed(c, i.experiment_ids);
        const { datasets, ...page } = await searchDatasets(deps, i);
        return { ...(datasets.length && { datasets }), ...page };
      },
    });
  }
  byIdRoute({
    method: 'get', path: one, version: '3.0', access: 'experiment:read', tag, summary: 'Get an evaluation dataset',
    input: byId, output: out,
    handle: async (deps, i) => ({ dataset: await getDataset(deps, i.dataset_id) }),
  });
  byIdRoute({
    method: 'delete', path: one, version: '3.0', access: 'experiment:manage', tag,
    summary: 'Delete an evaluation dataset with its records (a missing one is not an error)',
    input: byId, output: empty,
    handle: async (deps, i) => {
      await deleteDataset(deps, i.dataset_id);
      return {};
    },
  });
  byIdRoute({
    method: 'patch', path: `${one}/tags`, version: '3.0', access: 'experiment:edit', tag,
    summary: "Merge tags into a dataset's (`tags`: a JSON object as text)",
    input: byId.extend({ tags: requiredString }), output: empty,
    handle: async (deps, i) => {
      await setDatasetTags(deps, i.dataset_id, i.tags);
      return {};
    },
  });
  byIdRoute({
    method: 'delete', path: `${one}/tags/{key+}`, version: '3.0', access: 'experiment:edit', tag,
    summary: 'Delete a dataset tag (idempotent)',
    input: byId.extend({ key: requiredString }), output: empty,
    handle: async (deps, i) => {
      await deleteDatasetTag(deps, i.dataset_id, i.key);
      return {};
    },
  });
  byIdRoute({
    method: 'post', path: `${one}/records`, version: '3.0', access: 'experiment:edit', tag,
    summary: 'Merge records (`records`: a JSON list as text); a record whose inputs are already there is updated',
    input: byId.extend({ records: requiredString }),
    output: z.object({ inserted_count: z.number().int(), updated_count: z.number().int() }),
    handle: (deps, i) => upsertDatasetRecords(deps, i.dataset_id, i.records),
  });
  byIdRoute({
    method: 'get', path: `${one}/records`, version: '3.0', access: 'experiment:read', tag,
    summary: "A page of a dataset's records, oldest first (`records`: a JSON list as text)",
    input: byId.extend({ max_results: int64.optional(), page_token: z.string().optional() }),
    output: z.object({ records: z.string(), next_page_token: z.string().optional() }),
    handle: (deps, i) => getDatasetRecords(deps, i.dataset_id, i.max_results, i.page_token),
  });
  byIdRoute({
    method: 'delete', path: `${one}/records`, version: '3.0', access: 'experiment:edit', tag,
    summary: 'Delete records by id',
    input: byId.extend({ dataset_record_ids: ids }),
    output: z.object({ deleted_count: z.number().int() }),
    handle: (deps, i) => deleteDatasetRecords(deps, i.dataset_id, i.dataset_record_ids),
  });
  byIdRoute({
    method: 'get', path: `${one}/experiment-ids`, version: '3.0', access: 'experiment:read', tag,
    summary: 'The experiments a dataset is linked to',
    input: byId, output: z.object({ experiment_ids: z.array(z.string()).optional() }),
    handle: async (deps, i) => {
      const experiment_ids = await datasetExperimentIds(deps, i.dataset_id);
      return experiment_ids.length ? { experiment_ids } : {};
    },
  });
  byIdRoute({
    method: 'post', path: `${one}/add-experiments`, version: '3.0', access: 'experiment:edit', tag,
    summary: 'Link a dataset to more experiments (EDIT on the dataset\'s experiments and on these)',
    input: byId.extend({ experiment_ids: ids }), output: out,
    handle: async (deps, i, c) => {
      requireNamed(c, i.experiment_ids);
      return { dataset: await addDatasetToExperiments(deps, i.dataset_id, i.experiment_ids) };
    },
  });
  byIdRoute({
    method: 'post', path: `${one}/remove-experiments`, version: '3.0', access: 'experiment:edit', tag,
    summary: 'Unlink a dataset from experiments (idempotent)',
    input: byId.extend({ experiment_ids: ids }), output: out,
    handle: async (deps, i) => ({ dataset: await removeDatasetFromExperiments(deps, i.dataset_id, i.experiment_ids) }),
  });
}

/** For a caller who is not an admin (auth on): a call must name the experiments it is about. */
function requireNamed(c: Context, experimentIds: string[]): void {
  if (!experimentIds.length && !isUnrestricted(principalOf(c))) {
    throw permissionDenied('name the experiments (experiment_ids) this call is about; only an admin may omit them');
  }
}

/** For a caller who is not an admin: a dataset linked to no experiment (or none at all) is out of reach. */
async function requireLinked(deps: Deps, c: Context, datasetId: string): Promise<void> {
  if (isUnrestricted(principalOf(c))) return;
  if (!(await linkedExperimentsOf(deps.db, [datasetId])).get(datasetId)?.length) {
    throw permissionDenied(`dataset '${datasetId.slice(0, 100)}' is linked to no experiment; only an admin may reach it`);
  }
}
