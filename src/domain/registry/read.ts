import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { notFound } from '../../errors.js';
import { numberArray } from '../../lib/pg-array.js';
import { parseVersion, validateModelName } from './validation.js';

// Registered models and model versions in MLflow's wire form. Each part comes from one flat query over
// all the requested rows, assembled here (as run-read.ts does for runs).

type KV = { key: string; value: string };

export interface ModelVersionWire {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  /** Always emitted: the proto2 default (PENDING_REGISTRATION) would make the client poll for minutes. */
  status: string;
  status_message?: string;
  tags?: KV[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModelWire {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersionWire[];
  tags?: KV[];
  aliases?: { alias: string; version: string }[];
  deployment_job_id?: string;
}

/** A model version's identity in the database. */
export interface VersionKey {
  modelId: number;
  version: number;
}

type Num = number | string;

interface VersionRow {
  registered_model_id: Num;
  name: string;
  version: Num;
  creation_time: Num;
  last_updated_time: Num;
  description: string | null;
  user_id: string | null;
  current_stage: string;
  source: string;
  run_id: string | null;
  run_link: string | null;
  status: string;
  status_message: string | null;
  model_id: string | null;
}

interface ModelRow {
  id: Num;
  name: string;
  creation_time: Num;
  last_updated_time: Num;
  description: string | null;
  user_id: string | null;
  deployment_job_id: string | null;
}

const keyOf = (modelId: Num, version: Num) => `${Number(modelId)}/${Number(version)}`;

/** Model versions in the order of `keys`; missing ones are left out. */
export async function loadModelVersions(db: Orm, keys: VersionKey[]): Promise<ModelVersionWire[]> {
  if (!keys.length) return [];
  const pairs = sql`select * from unnest(${numberArray(keys.map((k) => k.modelId))}::bigint[], ${numberArray(keys.map((k) => k.version))}::bigint[]) as k(m, v)`;
  const [versions, tags, aliases] = await Promise.all([
    rows<VersionRow>(
      db,
      sql`select mv.registered_model_id, rm.name, mv.version, mv.creation_time, mv.last_updated_time, mv.description, mv.user_id,
                 mv.current_stage, mv.source, mv.run_id, mv.run_link, mv.status, mv.status_message, mv.model_id
          from model_versions mv join registered_models rm on rm.id = mv.registered_model_id
          where (mv.registered_model_id, mv.version) in (${pairs})`,
    ),
    rows<{ registered_model_id: Num; version: Num; key: string; value: string }>(
      db,
      sql`select registered_model_id, version, key, value from model_version_tags
          where (registered_model_id, version) in (${pairs}) order by key`,
    ),
    rows<{ registered_model_id: Num; version: Num; alias: string }>(
      db,
      sql`select registered_model_id, version, alias from registered_model_aliases
          where (registered_model_id, version) in (${pairs}) order by alias`,
    ),
  ]);
  const byKey = new Map<string, ModelVersionWire>();
  for (const r of versions) byKey.set(keyOf(r.registered_model_id, r.version), toVersionWire(r));
  for (const t of tags) {
    const mv = byKey.get(keyOf(t.registered_model_id, t.version));
    if (mv) (mv.tags ??= []).push({ key: t.key, value: t.value });
  }
  for (const a of aliases) {
    const mv = byKey.get(keyOf(a.registered_model_id, a.version));
    if (mv) (mv.aliases ??= []).push(a.alias);
  }
  return keys.map((k) => byKey.get(keyOf(k.modelId, k.version))).filter((mv): mv is ModelVersionWire => mv !== undefined);
}

function toVersionWire(r: VersionRow): ModelVersionWire {
  const out: ModelVersionWire = {
    name: r.name,
    version: String(Number(r.version)),
    creation_timestamp: Number(r.creation_time),
    last_updated_timestamp: Number(r.last_updated_time),
    current_stage: r.current_stage,
    source: r.source,
    status: r.status,
  };
  if (r.user_id) out.user_id = r.user_id;
  // MLflow always writes these two, empty when unset.
  out.description = r.description ?? '';
  if (r.run_id) out.run_id = r.run_id;
  out.run_link = r.run_link ?? '';
  if (r.status_message) out.status_message = r.status_message;
  if (r.model_id) out.model_id = r.model_id;
  return out;
}

/** Registered models in the order of `ids`, each with its tags, aliases and latest version per stage. */
export async function loadRegisteredModels(db: Orm, ids: number[]): Promise<RegisteredModelWire[]> {
  if (!ids.length) return [];
  const idList = sql`any(${numberArray(ids)}::bigint[])`;
  const [models, tags, aliases, latest] = await Promise.all([
    rows<ModelRow>(
      db,
      sql`select id, name, creation_time, last_updated_time, description, user_id, deployment_job_id from registered_models where id = ${idList}`,
    ),
    rows<{ registered_model_id: Num; key: string; value: string }>(
      db,
      sql`select registered_model_id, key, value from registered_model_tags where registered_model_id = ${idList} order by key`,
    ),
    rows<{ registered_model_id: Num; alias: string; version: Num }>(
      db,
      sql`select registered_model_id, alias, version from registered_model_aliases where registered_model_id = ${idList} order by alias`,
    ),
    rows<{ registered_model_id: Num; version: Num }>(
      db,
      sql`select distinct on (registered_model_id, current_stage) registered_model_id, version
          from model_versions where registered_model_id = ${idList} and not deleted
          order by registered_model_id, current_stage, version desc`,
    ),
  ]);
  const byId = new Map<number, RegisteredModelWire>();
  for (const m of models) byId.set(Number(m.id), toModelWire(m));
  for (const t of tags) addTo(byId, t.registered_model_id, 'tags', { key: t.key, value: t.value });
  for (const a of aliases) addTo(byId, a.registered_model_id, 'aliases', { alias: a.alias, version: String(Number(a.version)) });
  latest.sort((a, b) => Number(a.version) - Number(b.version));
  const versions = await loadModelVersions(
    db,
    latest.map((l) => ({ modelId: Number(l.registered_model_id), version: Number(l.version) })),
  );
  latest.forEach((l, i) => {
    // MLflow lists a model's latest versions without their aliases (the model carries them).
    if (versions[i]) addTo(byId, l.registered_model_id, 'latest_versions', withoutAliases(versions[i]));
  });
  return ids.map((id) => byId.get(id)).filter((m): m is RegisteredModelWire => m !== undefined);
}

function addTo<K extends 'tags' | 'aliases' | 'latest_versions'>(
  byId: Map<number, RegisteredModelWire>,
  id: Num,
  field: K,
  item: NonNullable<RegisteredModelWire[K]>[number],
): void {
  const model = byId.get(Number(id));
  if (!model) return;
  ((model[field] ??= []) as unknown[]).push(item);
}

function toModelWire(m: ModelRow): RegisteredModelWire {
  const out: RegisteredModelWire = {
    name: m.name,
    creation_timestamp: Number(m.creation_time),
    last_updated_timestamp: Number(m.last_updated_time),
  };
  if (m.user_id) out.user_id = m.user_id;
  if (m.description != null) out.description = m.description;
  if (m.deployment_job_id) out.deployment_job_id = m.deployment_job_id;
  return out;
}

export const modelNotFound = (name: string) => notFound(`Registered Model with name=${name} not found`);
export const versionNotFound = (name: string, version: string | number) =>
  notFound(`Model Version (name=${name}, version=${version}) not found`);

/** The registered model's id; `lock` takes its row lock for the rest of the transaction. */
export async function modelIdByName(db: Orm, name: string, lock = false): Promise<number> {
  validateModelName(name);
  const found = await rows<{ id: Num }>(db, sql`select id from registered_models where name = ${name}${sql.raw(lock ? ' for update' : '')}`);
  if (!found.length) throw modelNotFound(name);
  return Number(found[0].id);
}

/** An existing, not deleted version's key. */
export async function versionKey(db: Orm, name: string, version: string | number, lock = false): Promise<VersionKey> {
  const v = parseVersion(version);
  const modelId = await modelIdByName(db, name);
  const found = await rows(
    db,
    sql`select 1 from model_versions where registered_model_id = ${modelId} and version = ${v} and not deleted${sql.raw(lock ? ' for update' : '')}`,
  );
  if (!found.length) throw versionNotFound(name, version);
  return { modelId, version: v };
}

export async function getRegisteredModel(db: Orm, name: string): Promise<RegisteredModelWire> {
  const id = await modelIdByName(db, name);
  const [model] = await loadRegisteredModels(db, [id]);
  if (!model) throw modelNotFound(name);
  return model;
}

export async function getModelVersion(db: Orm, name: string, version: string | number): Promise<ModelVersionWire> {
  const key = await versionKey(db, name, version);
  const [mv] = await loadModelVersions(db, [key]);
  if (!mv) throw versionNotFound(name, version);
  return mv;
}

/** A version as MLflow's searches list it: its aliases are only in get-model-version answers. */
export function withoutAliases(mv: ModelVersionWire): ModelVersionWire {
  if (!mv.aliases) return mv;
  const { aliases: _aliases, ...rest } = mv;
  return rest;
}
