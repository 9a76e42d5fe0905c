import { sql } from 'drizzle-orm';
import { isUniqueViolation } from '../../db/faults.js';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { alreadyExists, notFound } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import {
  getRegisteredModel,
  loadModelVersions,
  loadRegisteredModels,
  modelIdByName,
  modelNotFound,
  versionKey,
  type ModelVersionWire,
  type RegisteredModelWire,
} from './read.js';
import {
  canonicalStage,
  checkNoNul,
  IS_PROMPT_TAG,
  STAGES,
  validateAlias,
  validateAliasNotReserved,
  validateModelName,
  validateRegistryTag,
} from './validation.js';

type TagInput = { key: string; value?: string };

/** Later duplicates win, as if the tags had been set one after the other. */
function tagMap(tags: TagInput[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    const value = t.value ?? '';
    validateRegistryTag(t.key, value);
    out.set(t.key, value);
  }
  return out;
}

const isPrompt = (tags: Map<string, string> | { key: string; value: string }[] | undefined) => {
  const value = tags instanceof Map ? tags.get(IS_PROMPT_TAG) : tags?.find((t) => t.key === IS_PROMPT_TAG)?.value;
  return value?.toLowerCase() === 'true';
};


export async function createRegisteredModel(
  deps: Deps,
  input: { name: string; tags?: TagInput[]; description?: string; deployment_job_id?: string },
): Promise<RegisteredModelWire> {
  validateModelName(input.name);
  checkNoNul('description', input.description);
  const tags = tagMap(input.tags);
  const now = deps.now();
  const id = await deps.registryDb.transaction(async (tx) => {
    const inserted = await rows<{ id: number | string }>(
      tx,
      sql`insert into registered_models (name, creation_time, last_updated_time, description, deployment_job_id)
          values (${input.name}, ${now}, ${now}, ${input.description ?? null}, ${input.deployment_job_id || null})
          on conflict (name) do nothing returning id`,
    );
    if (!inserted.length) throw await duplicateName(tx, input.name, isPrompt(tags));
    const modelId = Number(inserted[0].id);
    for (const [key, value] of tags) {
      await tx.execute(sql`insert into registered_model_tags (registered_model_id, key, value) values (${modelId}, ${key}, ${value})`);
    }
    return modelId;
  });
  const [model] = await loadRegisteredModels(deps.registryDb, [id]);
  return model;
}

// MLflow words the clash between a prompt and a model differently from a plain duplicate.
async function duplicateName(db: Orm, name: string, newIsPrompt: boolean) {
  const existing = await rows<{ value: string }>(
    db,
    sql`select t.value from registered_model_tags t join registered_models m on m.id = t.registered_model_id
        where m.name = ${name} and t.key = ${IS_PROMPT_TAG}`,
  );
  const oldIsPrompt = existing[0]?.value?.toLowerCase() === 'true';
  const kind = (prompt: boolean) => (prompt ? 'Prompt' : 'Registered Model');
  if (oldIsPrompt !== newIsPrompt) {
    return alreadyExists(
      `Tried to create a ${kind(newIsPrompt).toLowerCase()} with name '${name}', but the name is already taken by a ${kind(oldIsPrompt).toLowerCase()}. MLflow does not allow creating a model and a prompt with the same name.`,
    );
  }
  return alreadyExists(`${kind(newIsPrompt)} (name=${name}) already exists.`);
}

export async function renameRegisteredModel(deps: Deps, name: string, newName: string): Promise<RegisteredModelWire> {
  validateModelName(name);
  validateModelName(newName, 'new_name');
  const now = deps.now();
  let id: number;
  try {
    id = await deps.registryDb.transaction(async (tx) => {
      const modelId = await modelIdByName(tx, name, true);
      if (newName !== name) {
        const clash = await rows(tx, sql`select 1 from registered_models where name = ${newName}`);
        if (clash.length) throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
      }
      await tx.execute(sql`update registered_models set name = ${newName}, last_updated_time = ${now} where id = ${modelId}`);
      await tx.execute(sql`update model_versions set last_updated_time = ${now} where registered_model_id = ${modelId}`);
      return modelId;
    });
  } catch (err) {
    // Two renames to the same new name at once: the loser hits the unique index.
    if (isUniqueViolation(err)) throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
    throw err;
  }
  const [model] = await loadRegisteredModels(deps.registryDb, [id]);
  return model;
}

export async function updateRegisteredModel(
  deps: Deps,
  input: { name: string; description?: string; deployment_job_id?: string },
): Promise<RegisteredModelWire> {
  checkNoNul('description', input.description);
  const id = await modelIdByName(deps.registryDb, input.name);
  await deps.registryDb.execute(sql`update registered_models
    set description = ${input.description ?? null},
        deployment_job_id = coalesce(${input.deployment_job_id ?? null}::text, deployment_job_id),
        last_updated_time = ${deps.now()}
    where id = ${id}`);
  const [model] = await loadRegisteredModels(deps.registryDb, [id]);
  return model;
}

/** Deletes the model with its versions, tags and aliases (foreign keys cascade). */
export async function deleteRegisteredModel(deps: Deps, name: string): Promise<void> {
  validateModelName(name);
  const deleted = await rows(deps.registryDb, sql`delete from registered_models where name = ${name} returning id`);
  if (!deleted.length) throw modelNotFound(name);
}

export async function setRegisteredModelTag(deps: Deps, name: string, key: string, value: string): Promise<void> {
  validateRegistryTag(key, value);
  await deps.registryDb.transaction(async (tx) => {
    const id = await modelIdByName(tx, name);
    await tx.execute(sql`insert into registered_model_tags (registered_model_id, key, value) values (${id}, ${key}, ${value})
                         on conflict (registered_model_id, key) do update set value = excluded.value`);
  });
}

/** Deleting a tag the model does not have is a no-op, as in MLflow. */
export async function deleteRegisteredModelTag(deps: Deps, name: string, key: string): Promise<void> {
  validateRegistryTag(key, '');
  await deps.registryDb.transaction(async (tx) => {
    const id = await modelIdByName(tx, name);
    await tx.execute(sql`delete from registered_model_tags where registered_model_id = ${id} and key = ${key}`);
  });
}

/** The newest version in each requested stage (every stage when none are given). */
export async function getLatestVersions(deps: Deps, name: string, stages: string[] | undefined): Promise<ModelVersionWire[]> {
  const wanted = stages?.length ? [...new Set(stages.map(canonicalStage))] : [...STAGES];
  const id = await modelIdByName(deps.registryDb, name);
  const latest = await rows<{ version: number | string }>(
    deps.registryDb,
    sql`select distinct on (current_stage) version from model_versions
        where registered_model_id = ${id} and not deleted and current_stage = any(${textArray(wanted)}::text[])
        order by current_stage, version desc`,
  );
  const keys = latest.map((l) => ({ modelId: id, version: Number(l.version) })).sort((a, b) => a.version - b.version);
  return loadModelVersions(deps.registryDb, keys);
}

export async function setAlias(deps: Deps, name: string, alias: string, version: string): Promise<void> {
  validateModelName(name);
  validateAlias(alias);
  validateAliasNotReserved(alias);
  await deps.registryDb.transaction(async (tx) => {
    const key = await versionKey(tx, name, version, true);
    await tx.execute(sql`insert into registered_model_aliases (registered_model_id, alias, version) values (${key.modelId}, ${alias}, ${key.version})
                         on conflict (registered_model_id, alias) do update set version = excluded.version`);
  });
}

/** Deleting an alias the model does not have is a no-op, as in MLflow. */
export async function deleteAlias(deps: Deps, name: string, alias: string): Promise<void> {
  validateModelName(name);
  validateAlias(alias);
  const id = await modelIdByName(deps.registryDb, name);
  await deps.registryDb.execute(sql`delete from registered_model_aliases where registered_model_id = ${id} and alias = ${alias}`);
}

/** `latest` (any case) is the newest version; any other alias must have been set. */
export async function getVersionByAlias(deps: Deps, name: string, alias: string): Promise<ModelVersionWire> {
  validateModelName(name);
  validateAlias(alias);
  const id = await modelIdByName(deps.registryDb, name);
  const found =
    alias.toLowerCase() === 'latest'
      ? await rows<{ version: number | string }>(
          deps.registryDb,
          sql`select version from model_versions where registered_model_id = ${id} and not deleted order by version desc limit 1`,
        )
      : await rows<{ version: number | string }>(
          deps.registryDb,
          sql`select a.version from registered_model_aliases a
              join model_versions mv on mv.registered_model_id = a.registered_model_id and mv.version = a.version and not mv.deleted
              where a.registered_model_id = ${id} and a.alias = ${alias}`,
        );
  if (!found.length) {
    throw alias.toLowerCase() === 'latest'
      ? notFound(`Latest version not found for model ${name}.`)
      : notFound(`Registered model alias ${alias} not found.`);
  }
  const [mv] = await loadModelVersions(deps.registryDb, [{ modelId: id, version: Number(found[0].version) }]);
  return mv;
}

export { getRegisteredModel };
