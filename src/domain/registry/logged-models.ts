import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { randomRunName } from '../../lib/ids.js';
import { textArray } from '../../lib/pg-array.js';
import { activeExperimentRoot } from '../experiments.js';
import { experimentIdOf } from '../ids.js';
import { lookup } from '../search/parse.js';
import { loadLoggedModels, type LoggedModelWire } from './logged-models-read.js';
import { checkNoNul, validateLoggedModelKey, validateLoggedModelName } from './validation.js';

// MLflow 3 logged models: created PENDING by log_model, finalized READY (or FAILED) once its artifacts
// are uploaded, soft-deleted. Artifacts live under <experiment artifact location>/models/<id>/artifacts.

type KVInput = { key: string; value?: string };

/** The statuses as stored, from the proto names (or numbers) the client sends. */
const STATUS_BY_NAME: Readonly<Record<string, string>> = {
  LOGGED_MODEL_STATUS_UNSPECIFIED: 'UNSPECIFIED',
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
  '0': 'UNSPECIFIED',
  '1': 'PENDING',
  '2': 'READY',
  '3': 'FAILED',
};

const TAG_VALUE_LIMIT = 1_000_000;
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

export const newLoggedModelId = () => `m-${randomBytes(16).toString('hex')}`;

export const loggedModelNotFound = (modelId: string) => notFound(`Logged model with ID '${modelId}' not found.`);

function checkModelId(modelId: string): void {
  if (!/^[\w-]{1,100}$/.test(modelId)) throw loggedModelNotFound(modelId.slice(0, 100));
}

function uniqueKeys(kind: 'Tag' | 'Param', items: KVInput[] | undefined, lastWins: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items ?? []) {
    validateLoggedModelKey(kind, item.key);
    const value = item.value ?? '';
    checkNoNul(`${kind.toLowerCase()} value`, value);
    if (value.length > TAG_VALUE_LIMIT) throw invalidParam(`${kind} value for '${item.key}' exceeds ${TAG_VALUE_LIMIT} characters`);
    const previous = out.get(item.key);
    if (!lastWins && previous !== undefined && previous !== value) {
      throw invalidParam(`Duplicate parameter keys have been submitted: ['${item.key}'].`);
    }
    out.set(item.key, value);
  }
  return out;
}

export async function createLoggedModel(
  deps: Deps,
  input: { experiment_id: string; name?: string; model_type?: string; source_run_id?: string; params?: KVInput[]; tags?: KVInput[] },
): Promise<LoggedModelWire> {
  const name = input.name || undefined;
  validateLoggedModelName(name);
  checkNoNul('model_type', input.model_type);
  checkNoNul('source_run_id', input.source_run_id);
  const experimentId = experimentIdOf(input.experiment_id);
  const params = uniqueKeys('Param', input.params, false);
  const tags = uniqueKeys('Tag', input.tags, true);
  const modelId = newLoggedModelId();
  const now = deps.now();
  await deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, experimentId, input.experiment_id);
    const artifactLocation = `${root}/models/${modelId}/artifacts`;
    await tx.execute(sql`
      insert into logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms,
                                 status, lifecycle_stage, model_type, source_run_id)
      values (${modelId}, ${experimentId}, ${name ?? randomRunName()}, ${artifactLocation}, ${now}, ${now},
              'PENDING', 'active', ${input.model_type || null}, ${input.source_run_id || null})`);
    if (params.size) await insertKeyValues(tx, 'logged_model_params', modelId, params, 'nothing');
    if (tags.size) await insertKeyValues(tx, 'logged_model_tags', modelId, tags, 'update');
  });
  return getLoggedModel(deps, modelId, true);
}

async function insertKeyValues(tx: Orm, table: 'logged_model_params' | 'logged_model_tags', modelId: string, values: Map<string, string>, onConflict: 'nothing' | 'update') {
  const keys = [...values.keys()];
  const conflict = onConflict === 'update' ? sql`do update set value = excluded.value` : sql`do nothing`;
  await tx.execute(sql`
    insert into ${sql.raw(table)} (model_id, key, value)
    select ${modelId}, k, v from unnest(${textArray(keys)}::text[], ${textArray(keys.map((k) => values.get(k)!))}::text[]) as t(k, v)
    on conflict (model_id, key) ${conflict}`);
}

/** Locks and returns the model row; deleted models are found too (MLflow's _get_logged_model_record). */
async function lockModel(tx: Orm, modelId: string): Promise<{ lifecycle_stage: string }> {
  checkModelId(modelId);
  const found = await rows<{ lifecycle_stage: string }>(tx, sql`select lifecycle_stage from logged_models where model_id = ${modelId} for update`);
  if (!found.length) throw loggedModelNotFound(modelId);
  return found[0];
}

export async function getLoggedModel(deps: Deps, modelId: string, allowDeleted = false): Promise<LoggedModelWire> {
  checkModelId(modelId);
  const [model] = await loadLoggedModels(deps.db, [modelId], allowDeleted);
  if (!model) throw loggedModelNotFound(modelId);
  return model;
}

export async function finalizeLoggedModel(deps: Deps, modelId: string, status: string | number): Promise<LoggedModelWire> {
  const stored = lookup(STATUS_BY_NAME, String(status));
  if (!stored) {
    throw invalidParam(`Invalid value ${JSON.stringify(status)} for parameter 'status' supplied. Valid values: LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED`);
  }
  await deps.db.transaction(async (tx) => {
    await lockModel(tx, modelId);
    await tx.execute(sql`update logged_models set status = ${stored}, last_updated_timestamp_ms = ${deps.now()} where model_id = ${modelId}`);
  });
  return getLoggedModel(deps, modelId, true);
}

/** Soft delete: the model disappears from get (unless allow_deleted) and from search. */
export async function deleteLoggedModel(deps: Deps, modelId: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await lockModel(tx, modelId);
    await tx.execute(sql`update logged_models set lifecycle_stage = 'deleted', last_updated_timestamp_ms = ${deps.now()} where model_id = ${modelId}`);
  });
}

export async function setLoggedModelTags(deps: Deps, modelId: string, tags: KVInput[] | undefined): Promise<void> {
  const values = uniqueKeys('Tag', tags, true);
  await deps.db.transaction(async (tx) => {
    await lockModel(tx, modelId);
    if (values.size) await insertKeyValues(tx, 'logged_model_tags', modelId, values, 'update');
  });
}

export async function deleteLoggedModelTag(deps: Deps, modelId: string, key: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await lockModel(tx, modelId);
    const deleted = await rows(tx, sql`delete from logged_model_tags where model_id = ${modelId} and key = ${key} returning key`);
    if (!deleted.length) throw notFound(`No tag with key '${key.slice(0, 250)}' found for model with ID '${modelId}'.`);
  });
}

/** Params are immutable, as a run's are: the same value again is a no-op, another value a 400. */
export async function logLoggedModelParams(deps: Deps, modelId: string, params: KVInput[] | undefined): Promise<void> {
  const values = uniqueKeys('Param', params, false);
  await deps.db.transaction(async (tx) => {
    await lockModel(tx, modelId);
    if (!values.size) return;
    const keys = [...values.keys()];
    const existing = await rows<{ key: string; value: string }>(
      tx,
      sql`select key, value from logged_model_params where model_id = ${modelId} and key = any(${textArray(keys)}::text[])`,
    );
    const changed = existing.filter((p) => p.value !== values.get(p.key));
    if (changed.length) {
      const listed = changed.map((c) => `{'key': '${c.key}', 'old_value': '${c.value}', 'new_value': '${values.get(c.key)}'}`).join(', ');
      throw invalidParam(`Changing param values is not allowed. Params were already logged='[${listed}]' for model ID='${modelId}'.`);
    }
    await insertKeyValues(tx, 'logged_model_params', modelId, values, 'nothing');
  });
}

/**
 * Records a registration on the logged model's mlflow.modelVersions tag, a JSON list written as
 * Python's json.dumps writes it. Called inside the version's transaction; the row lock keeps
 * concurrent registrations of one model from losing each other's entries.
 */
export async function addModelVersionRegistration(tx: Orm, modelId: string, name: string, version: number): Promise<void> {
  const model = await lockModel(tx, modelId);
  if (model.lifecycle_stage === 'deleted') throw loggedModelNotFound(modelId);
  const existing = await rows<{ value: string }>(tx, sql`select value from logged_model_tags where model_id = ${modelId} and key = ${MODEL_VERSIONS_TAG}`);
  let list: { name: unknown; version: unknown }[] = [];
  try {
    const parsed: unknown = existing.length ? JSON.parse(existing[0].value) : [];
    if (Array.isArray(parsed)) list = parsed as typeof list;
  } catch {
    list = [];
  }
  if (!list.some((e) => e && e.name === name && String(e.version) === String(version))) list.push({ name, version });
  await tx.execute(sql`insert into logged_model_tags (model_id, key, value) values (${modelId}, ${MODEL_VERSIONS_TAG}, ${pythonJson(list)})
                       on conflict (model_id, key) do update set value = excluded.value`);
}

/** json.dumps(value) with Python's default separators and ensure_ascii. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
