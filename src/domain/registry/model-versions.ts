import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { addModelVersionRegistration } from './logged-models.js';
import { getModelVersion, loadModelVersions, modelIdByName, modelNotFound, versionKey, type ModelVersionWire } from './read.js';
import { resolveSource } from './source.js';
import {
  ACTIVE_STAGES,
  canonicalStage,
  checkNoNul,
  IS_PROMPT_TAG,
  PROMPT_SOURCES,
  validateModelName,
  validateRegistryTag,
} from './validation.js';

type TagInput = { key: string; value?: string };

export interface CreateModelVersionInput {
  name: string;
  source: string;
  run_id?: string;
  tags?: TagInput[];
  run_link?: string;
  description?: string;
  model_id?: string;
}

/**
 * Registers a new version. The number comes from the registered model's counter, incremented under
 * its row lock in the same transaction as the insert, so concurrent registrations of one model get
 * 1, 2, 3, ... without gaps or duplicates. The version is READY at once: Cairn copies nothing.
 */
export async function createModelVersion(deps: Deps, input: CreateModelVersionInput): Promise<ModelVersionWire> {
  validateModelName(input.name);
  for (const field of ['source', 'run_id', 'run_link', 'description', 'model_id'] as const) checkNoNul(field, input[field]);
  const tags = new Map<string, string>();
  for (const t of input.tags ?? []) {
    const value = t.value ?? '';
    validateRegistryTag(t.key, value);
    tags.set(t.key, value);
  }
  const isPrompt = tags.get(IS_PROMPT_TAG)?.toLowerCase() === 'true';
  if (isPrompt && !PROMPT_SOURCES.includes(input.source)) {
    throw invalidParam(`Invalid prompt source: '${input.source}'. Prompt sources must use an MLflow placeholder.`);
  }
  const resolved = isPrompt
    ? { source: input.source, storageLocation: input.source, runId: input.run_id || null, modelId: input.model_id || null }
    : await resolveSource({ tracking: deps.db, registry: deps.registryDb }, input);
  const now = deps.now();
  const key = await deps.registryDb.transaction(async (tx) => {
    const allocated = await rows<{ id: number | string; last_version: number | string }>(
      tx,
      sql`update registered_models set last_version = last_version + 1, last_updated_time = ${now}
          where name = ${input.name} returning id, last_version`,
    );
    if (!allocated.length) throw modelNotFound(input.name);
    const modelId = Number(allocated[0].id);
    const version = Number(allocated[0].last_version);
    await tx.execute(sql`
      insert into model_versions (registered_model_id, version, creation_time, last_updated_time, description, current_stage, source,
                                  storage_location, run_id, run_link, status, model_id)
      values (${modelId}, ${version}, ${now}, ${now}, ${input.description ?? null}, 'None', ${resolved.source},
              ${resolved.storageLocation}, ${resolved.runId}, ${input.run_link || null}, 'READY', ${resolved.modelId})`);
    for (const [k, v] of tags) {
      await tx.execute(sql`insert into model_version_tags (registered_model_id, version, key, value) values (${modelId}, ${version}, ${k}, ${v})`);
    }
    // The logged model's record of its registrations is tracking data: in the same transaction when
    // the registry shares its database, else once the version exists (as MLflow's two stores do).
    if (!isPrompt && resolved.modelId && deps.registryDb === deps.db) await addModelVersionRegistration(tx, resolved.modelId, input.name, version);
    return { modelId, version };
  });
  if (!isPrompt && resolved.modelId && deps.registryDb !== deps.db) {
    const modelId = resolved.modelId;
    await deps.db.transaction((tx) => addModelVersionRegistration(tx, modelId, input.name, key.version));
  }
  const [mv] = await loadModelVersions(deps.registryDb, [key]);
  return mv;
}

/** A missing description clears it, as MLflow's UpdateModelVersion does. */
export async function updateModelVersion(deps: Deps, name: string, version: string, description: string | undefined): Promise<ModelVersionWire> {
  checkNoNul('description', description);
  const key = await versionKey(deps.registryDb, name, version);
  await deps.registryDb.execute(sql`update model_versions set description = ${description ?? null}, last_updated_time = ${deps.now()}
                            where registered_model_id = ${key.modelId} and version = ${key.version}`);
  return getModelVersion(deps.registryDb, name, version);
}

export async function transitionStage(
  deps: Deps,
  input: { name: string; version: string; stage: string; archive_existing_versions?: boolean },
): Promise<ModelVersionWire> {
  const stage = canonicalStage(input.stage);
  if (input.archive_existing_versions && !ACTIVE_STAGES.includes(stage)) {
    throw invalidParam(
      `Model version transition cannot archive existing model versions because '${input.stage}' is not an Active stage. Valid stages are ${ACTIVE_STAGES.join(', ')}`,
    );
  }
  const now = deps.now();
  await deps.registryDb.transaction(async (tx) => {
    // The model's row lock first, as in createModelVersion, so concurrent transitions queue up.
    await modelIdByName(tx, input.name, true);
    const key = await versionKey(tx, input.name, input.version);
    if (input.archive_existing_versions) {
      await tx.execute(sql`update model_versions set current_stage = 'Archived', last_updated_time = ${now}
                           where registered_model_id = ${key.modelId} and version <> ${key.version} and current_stage = ${stage} and not deleted`);
    }
    await tx.execute(sql`update model_versions set current_stage = ${stage}, last_updated_time = ${now}
                         where registered_model_id = ${key.modelId} and version = ${key.version}`);
    await tx.execute(sql`update registered_models set last_updated_time = ${now} where id = ${key.modelId}`);
  });
  return getModelVersion(deps.registryDb, input.name, input.version);
}

/**
 * The version stays as a redacted row (its number is never reused), loses its aliases, and is gone
 * from get, search and get-latest-versions; its tags are kept, as in MLflow.
 */
export async function deleteModelVersion(deps: Deps, name: string, version: string): Promise<void> {
  const now = deps.now();
  await deps.registryDb.transaction(async (tx) => {
    await modelIdByName(tx, name, true);
    const key = await versionKey(tx, name, version);
    await tx.execute(sql`delete from registered_model_aliases where registered_model_id = ${key.modelId} and version = ${key.version}`);
    await tx.execute(sql`update model_versions set deleted = true, last_updated_time = ${now}, description = null, user_id = null,
                           source = 'REDACTED-SOURCE-PATH', storage_location = null, run_id = 'REDACTED-RUN-ID',
                           run_link = 'REDACTED-RUN-LINK', status_message = null
                         where registered_model_id = ${key.modelId} and version = ${key.version}`);
    await tx.execute(sql`update registered_models set last_updated_time = ${now} where id = ${key.modelId}`);
  });
}

export async function getDownloadUri(deps: Deps, name: string, version: string): Promise<string> {
  const key = await versionKey(deps.registryDb, name, version);
  const found = await rows<{ uri: string }>(
    deps.registryDb,
    sql`select coalesce(storage_location, source) as uri from model_versions where registered_model_id = ${key.modelId} and version = ${key.version}`,
  );
  return found[0].uri;
}

export async function setModelVersionTag(deps: Deps, name: string, version: string, key: string, value: string): Promise<void> {
  validateRegistryTag(key, value);
  await deps.registryDb.transaction(async (tx) => {
    const k = await versionKey(tx, name, version);
    await tx.execute(sql`insert into model_version_tags (registered_model_id, version, key, value) values (${k.modelId}, ${k.version}, ${key}, ${value})
                         on conflict (registered_model_id, version, key) do update set value = excluded.value`);
  });
}

/** Deleting a tag the version does not have is a no-op, as in MLflow. */
export async function deleteModelVersionTag(deps: Deps, name: string, version: string, key: string): Promise<void> {
  validateRegistryTag(key, '');
  const k = await versionKey(deps.registryDb, name, version);
  await deps.registryDb.execute(sql`delete from model_version_tags where registered_model_id = ${k.modelId} and version = ${k.version} and key = ${key}`);
}

export { getModelVersion };
