import { z } from '@hono/zod-openapi';
import { filterByModelName } from '../../auth/filters.js';
import { grantCreator } from '../../auth/grants.js';
import { principalOf } from '../../auth/policy.js';
import { requireModel } from '../../auth/resources.js';
import { refuseTeamTagChange, teamOfNewModel } from '../../auth/teams.js';
import { assignToTeam } from '../../domain/teams/team-grants.js';
import {
  createRegisteredModel,
  deleteAlias,
  deleteRegisteredModel,
  deleteRegisteredModelTag,
  getLatestVersions,
  getRegisteredModel,
  getVersionByAlias,
  renameRegisteredModel,
  setAlias,
  setRegisteredModelTag,
  updateRegisteredModel,
} from '../../domain/registry/registered-models.js';
import { searchRegisteredModels } from '../../domain/registry/search.js';
import { int64, keyValue, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { empty } from '../mlflow/schemas.js';
import { modelVersionOut, registeredModelOut } from './schemas.js';

const tag = 'Registered models';
const name = z.object({ name: requiredString });
const modelOut = z.object({ registered_model: registeredModelOut });

export function registeredModelRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/registered-models/create', access: 'authenticated', tag, summary: 'Create a registered model (or a prompt, with the mlflow.prompt.is_prompt tag)',
    input: z.object({
      name: requiredString,
      tags: z.array(keyValue).optional(),
      description: z.string().optional(),
      deployment_job_id: z.string().optional(),
    }),
    output: modelOut,
    handle: async (deps, input, c) => {
      const team = await teamOfNewModel(deps, principalOf(c), input.tags);
      const created = await createRegisteredModel(deps, input);
      const id = await requireModel(deps, input.name);
      await grantCreator(deps, principalOf(c), 'registered_model', id);
      if (team) await assignToTeam(deps.db, 'registered_model', team.id, id);
      return { registered_model: created };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/registered-models/get', access: 'model:read', tag, summary: 'Get a registered model with its latest versions, tags and aliases',
    input: name,
    output: modelOut,
    handle: async (deps, input) => ({ registered_model: await getRegisteredModel(deps.registryDb, input.name) }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/registered-models/rename', access: 'model:edit', tag, summary: 'Rename a registered model',
    input: z.object({ name: requiredString, new_name: requiredString }),
    output: modelOut,
    handle: async (deps, input) => ({ registered_model: await renameRegisteredModel(deps, input.name, input.new_name) }),
  });
  defineRoute(r, {
    method: 'patch', path: '/mlflow/registered-models/update', access: 'model:edit', tag, summary: "Update a registered model's description",
    input: z.object({ name: requiredString, description: z.string().optional(), deployment_job_id: z.string().optional() }),
    output: modelOut,
    handle: async (deps, input) => ({ registered_model: await updateRegisteredModel(deps, input) }),
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/registered-models/delete', access: 'model:manage', tag, summary: 'Delete a registered model with its versions, tags and aliases',
    input: name, output: empty,
    handle: (deps, input) => deleteRegisteredModel(deps, input.name),
  });
  const searchInput = z.object({
    filter: z.string().optional(),
    max_results: int64.optional(),
    order_by: repeated(z.string()).optional(),
    page_token: z.string().optional(),
  });
  const searchOutput = z.object({ registered_models: z.array(registeredModelOut).optional(), next_page_token: z.string().optional() });
  defineRoute(r, {
    method: 'get', path: '/mlflow/registered-models/search', access: 'authenticated', tag, summary: 'Search registered models (prompts only when the filter asks for them)',
    input: searchInput, output: searchOutput,
    handle: async (deps, input, c) => {
      const found = await searchRegisteredModels(deps, input);
      return { ...found, registered_models: await filterByModelName(deps, c, found.registered_models) };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/registered-models/set-tag', access: 'model:edit', tag, summary: 'Set a registered model tag',
    input: z.object({ name: requiredString, key: requiredString, value: z.string().optional() }),
    output: empty,
    handle: async (deps, input) => {
      refuseTeamTagChange(input.key);
      return setRegisteredModelTag(deps, input.name, input.key, input.value ?? '');
    },
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/registered-models/delete-tag', access: 'model:edit', tag, summary: 'Delete a registered model tag',
    input: z.object({ name: requiredString, key: requiredString }),
    output: empty,
    handle: async (deps, input) => {
      refuseTeamTagChange(input.key);
      return deleteRegisteredModelTag(deps, input.name, input.key);
    },
  });
  const latestInput = z.object({ name: requiredString, stages: repeated(z.string()).optional() });
  const latestOutput = z.object({ model_versions: z.array(modelVersionOut).optional() });
  for (const method of ['post', 'get'] as const) {
    defineRoute(r, {
      method, path: '/mlflow/registered-models/get-latest-versions', access: 'model:read', tag, summary: 'Latest version per stage (all stages when none are given)',
      input: latestInput, output: latestOutput,
      handle: async (deps, input) => {
        const versions = await getLatestVersions(deps, input.name, input.stages);
        return versions.length ? { model_versions: versions } : {};
      },
    });
  }
  const aliasTag = 'Aliases';
  defineRoute(r, {
    method: 'post', path: '/mlflow/registered-models/alias', access: 'model:edit', tag: aliasTag, summary: 'Point an alias at a version (moves it if set)',
    input: z.object({ name: requiredString, alias: requiredString, version: requiredString }),
    output: empty,
    handle: (deps, input) => setAlias(deps, input.name, input.alias, input.version),
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/registered-models/alias', access: 'model:edit', tag: aliasTag, summary: 'Delete an alias',
    input: z.object({ name: requiredString, alias: requiredString }),
    output: empty,
    handle: (deps, input) => deleteAlias(deps, input.name, input.alias),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/registered-models/alias', access: 'model:read', tag: aliasTag, summary: 'The version an alias points at (`latest`: the newest version)',
    input: z.object({ name: requiredString, alias: requiredString }),
    output: z.object({ model_version: modelVersionOut }),
    handle: async (deps, input) => ({ model_version: await getVersionByAlias(deps, input.name, input.alias) }),
  });
}
