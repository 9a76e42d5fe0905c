import { z } from '@hono/zod-openapi';
import { filterByModelName } from '../../auth/filters.js';
import {
  createModelVersion,
  deleteModelVersion,
  deleteModelVersionTag,
  getDownloadUri,
  getModelVersion,
  setModelVersionTag,
  transitionStage,
  updateModelVersion,
} from '../../domain/registry/model-versions.js';
import { searchModelVersions } from '../../domain/registry/search.js';
import { bool, int64, keyValue, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { empty } from '../mlflow/schemas.js';
import { modelVersionOut } from './schemas.js';

const tag = 'Model versions';
// The client sends versions as strings; numbers are accepted too.
const version = z.union([requiredString, z.number().int().transform(String)]);
const nameVersion = z.object({ name: requiredString, version });
const versionOut = z.object({ model_version: modelVersionOut });

export function modelVersionRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/model-versions/create', access: 'model:edit', tag, summary: 'Register a new version (from runs:/, models:/ or an artifact URI); READY at once',
    input: z.object({
      name: requiredString,
      source: requiredString,
      run_id: z.string().optional(),
      tags: z.array(keyValue).optional(),
      run_link: z.string().optional(),
      description: z.string().optional(),
      model_id: z.string().optional(),
    }),
    output: versionOut,
    handle: async (deps, input) => ({ model_version: await createModelVersion(deps, input) }),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/model-versions/get', access: 'model:read', tag, summary: 'Get a model version',
    input: nameVersion, output: versionOut,
    handle: async (deps, input) => ({ model_version: await getModelVersion(deps.registryDb, input.name, input.version) }),
  });
  defineRoute(r, {
    method: 'patch', path: '/mlflow/model-versions/update', access: 'model:edit', tag, summary: "Update a version's description",
    input: z.object({ name: requiredString, version, description: z.string().optional() }),
    output: versionOut,
    handle: async (deps, input) => ({ model_version: await updateModelVersion(deps, input.name, input.version, input.description) }),
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/model-versions/delete', access: 'model:manage', tag, summary: 'Delete a model version (its number is not reused)',
    input: nameVersion, output: empty,
    handle: (deps, input) => deleteModelVersion(deps, input.name, input.version),
  });
  const searchInput = z.object({
    filter: z.string().optional(),
    max_results: int64.optional(),
    order_by: repeated(z.string()).optional(),
    page_token: z.string().optional(),
  });
  const searchOutput = z.object({ model_versions: z.array(modelVersionOut).optional(), next_page_token: z.string().optional() });
  defineRoute(r, {
    method: 'get', path: '/mlflow/model-versions/search', access: 'authenticated', tag, summary: 'Search model versions (deleted versions and prompts left out unless asked for)',
    input: searchInput, output: searchOutput,
    handle: async (deps, input, c) => {
      const found = await searchModelVersions(deps, input);
      return { ...found, model_versions: await filterByModelName(deps, c, found.model_versions) };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/model-versions/get-download-uri', access: 'model:read', tag, summary: "Where a version's files are",
    input: nameVersion,
    output: z.object({ artifact_uri: z.string() }),
    handle: async (deps, input) => ({ artifact_uri: await getDownloadUri(deps, input.name, input.version) }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/model-versions/set-tag', access: 'model:edit', tag, summary: 'Set a model version tag',
    input: z.object({ name: requiredString, version, key: requiredString, value: z.string().optional() }),
    output: empty,
    handle: (deps, input) => setModelVersionTag(deps, input.name, input.version, input.key, input.value ?? ''),
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/model-versions/delete-tag', access: 'model:edit', tag, summary: 'Delete a model version tag',
    input: z.object({ name: requiredString, version, key: requiredString }),
    output: empty,
    handle: (deps, input) => deleteModelVersionTag(deps, input.name, input.version, input.key),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/model-versions/transition-stage', access: 'model:edit', tag: 'Stages', summary: 'Move a version to a stage, optionally archiving the others in it',
    input: z.object({ name: requiredString, version, stage: requiredString, archive_existing_versions: bool.optional() }),
    output: versionOut,
    handle: async (deps, input) => ({ model_version: await transitionStage(deps, input) }),
  });
}
