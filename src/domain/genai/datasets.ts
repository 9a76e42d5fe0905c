import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { jsonDeeperThan } from '../../lib/json-depth.js';
import { decodeOffsetToken, encodeOffsetToken } from '../../lib/page-token.js';
import { experimentIdOf } from '../ids.js';
import { pythonJson } from '../registry/logged-models.js';
import { datasetSearchQuery } from '../search/datasets-sql.js';

// MLflow 3 evaluation datasets (mlflow.genai.datasets): a named set of records (inputs, outputs,
// expectations) with tags, linked to experiments. This file holds the dataset itself; its records
// are in dataset-records.ts. Wire shapes follow mlflow server 3.18: tags, schema and profile travel
// as JSON text written as Python's json.dumps writes it.

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MLFLOW_USER = 'mlflow.user';
const MAX_RESULTS = 50_000;

export interface DatasetWire {
  dataset_id: string;
  name: string;
  tags: string;
  schema?: string;
  profile?: string;
  digest: string;
  created_time: number;
  last_update_time: number;
  created_by?: string;
  last_updated_by?: string;
  experiment_ids?: string[];
}

interface DatasetRow {
  dataset_id: string;
  name: string;
  digest: string;
  schema: string | null;
  profile: string | null;
  created_time: string | number;
  last_update_time: string | number;
  created_by: string | null;
  last_updated_by: string | null;
}

/** MLflow's digest: the first 8 hex of sha256("<name>:<last_update_time>"), so any change gives a new one. */
export const datasetDigest = (name: string, time: number) => createHash('sha256').update(`${name}:${time}`).digest('hex').slice(0, 8);

export const datasetMissing = (id: string) => notFound(`Evaluation dataset with id '${id.slice(0, 100)}' not found`);

export const MAX_JSON_DEPTH = 64;

/** A JSON-text field of the request (tags, records) parsed, or a 400 naming it. */
export function parseJsonField(text: string, field: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidParam(`Invalid value for parameter '${field}': it must be a JSON string`);
  }
  // The records are walked recursively (hashing, schema, Python-style JSON): a bound keeps that off the stack's edge.
  if (jsonDeeperThan(value, MAX_JSON_DEPTH)) throw invalidParam(`Invalid value for parameter '${field}': it is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return value;
}

/** Tag values as MLflow stores them (str(value)); null values are skipped. */
function tagEntries(text: string): [string, string][] {
  const tags = parseJsonField(text, 'tags');
  if (!isObj(tags)) throw invalidParam("Invalid value for parameter 'tags': it must be a JSON object");
  return Object.entries(tags)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [k, typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'number' ? String(v) : pythonJson(v)]);
}

async function loadTags(db: Orm, ids: string[]): Promise<Map<string, [string, string][]>> {
  const out = new Map<string, [string, string][]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const list = sql.join(ids.map((id) => sql`${id}`), sql`, `);
  const found = await rows<{ dataset_id: string; key: string; value: string }>(
    db,
    sql`select dataset_id, key, value from evaluation_dataset_tags where dataset_id in (${list}) order by dataset_id, key`,
  );
  for (const t of found) out.get(t.dataset_id)!.push([t.key, t.value]);
  return out;
}

// Field order as MLflow's server writes the message (its proto field numbers).
function toWire(r: DatasetRow, tags: [string, string][]): DatasetWire {
  return {
    dataset_id: r.dataset_id,
    name: r.name,
    tags: pythonJson(Object.fromEntries(tags)),
    ...(r.schema !== null && { schema: r.schema }),
    ...(r.profile !== null && { profile: r.profile }),
    digest: r.digest,
    created_time: Number(r.created_time),
    last_update_time: Number(r.last_update_time),
    ...(r.created_by !== null && { created_by: r.created_by }),
    ...(r.last_updated_by !== null && { last_updated_by: r.last_updated_by }),
  };
}

const SELECT = sql`select dataset_id, name, digest, schema, profile, created_time, last_update_time, created_by, last_updated_by from evaluation_datasets`;

/** The dataset row, locked for the transaction with `lock`; a 404 worded `missing` when absent. */
export async function datasetRow(db: Orm, id: string, lock = false, missing = datasetMissing): Promise<DatasetRow> {
  const found = await rows<DatasetRow>(db, sql`${SELECT} where dataset_id = ${id}${lock ? sql` for update` : sql``}`);
  if (!found.length) throw missing(id);
  return found[0];
}

async function wireOf(db: Orm, id: string, missing = datasetMissing): Promise<DatasetWire> {
  const row = await datasetRow(db, id, false, missing);
  return toWire(row, (await loadTags(db, [id])).get(id)!);
}

/** Experiment ids as the client sent them, each an existing experiment (deleted ones too, as MLflow). */
async function existingExperiments(db: Orm, ids: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const id of ids) {
    const n = experimentIdOf(id);
    const found = await rows(db, sql`select 1 from experiments where experiment_id = ${n}`);
    // MLflow's wording for add-experiments (its create does not check, Cairn's does: a link needs a row).
    if (!found.length) throw notFound(`No Experiment with id=${id}`);
    out.push(n);
  }
  return [...new Set(out)];
}

export async function createDataset(deps: Deps, input: { name: string; tags?: string; experiment_ids?: string[] }): Promise<DatasetWire> {
  const tags = input.tags ? tagEntries(input.tags) : [];
  const now = deps.now();
  const id = `d-${randomUUID().replace(/-/g, '')}`;
  const user = tags.find(([k]) => k === MLFLOW_USER)?.[1] ?? null;
  const experimentIds = input.experiment_ids ?? [];
  await deps.db.transaction(async (tx) => {
    const linked = await existingExperiments(tx, experimentIds);
    await tx.execute(sql`insert into evaluation_datasets (dataset_id, name, digest, created_time, last_update_time, created_by, last_updated_by)
      values (${id}, ${input.name}, ${datasetDigest(input.name, now)}, ${now}, ${now}, ${user}, ${user})`);
    for (const [k, v] of tags) await tx.execute(sql`insert into evaluation_dataset_tags (dataset_id, key, value) values (${id}, ${k}, ${v})`);
    for (const e of linked) await tx.execute(sql`insert into evaluation_dataset_experiments (dataset_id, experiment_id) values (${id}, ${e})`);
  });
  const out = await wireOf(deps.db, id);
  // As MLflow: only the create answer lists the experiments (elsewhere they are read lazily).
  if (experimentIds.length) out.experiment_ids = experimentIds;
  return out;
}

export const getDataset = (deps: Deps, id: string) => wireOf(deps.db, id);

/** Deleting a dataset that does not exist is not an error (as MLflow). Its records, tags and links go with it. */
export async function deleteDataset(deps: Deps, id: string): Promise<void> {
  await deps.db.execute(sql`delete from evaluation_datasets where dataset_id = ${id}`);
}

export async function searchDatasets(
  deps: Deps,
  input: { experiment_ids?: string[]; filter_string?: string; max_results?: number; order_by?: string[]; page_token?: string },
): Promise<{ datasets: DatasetWire[]; next_page_token?: string }> {
  const limit = input.max_results || 1000;
  if (limit < 1) throw invalidParam(`Invalid value ${limit} for parameter 'max_results' supplied. It must be a positive integer`);
  if (limit > MAX_RESULTS) throw invalidParam(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${MAX_RESULTS}`);
  const offset = decodeOffsetToken(input.page_token || undefined);
  const experimentIds = (input.experiment_ids ?? []).map(experimentIdOf);
  const query = datasetSearchQuery({ experimentIds, filter: input.filter_string || undefined, orderBy: input.order_by, offset, limit: limit + 1 });
  const ids = (await rows<{ dataset_id: string }>(deps.db, query)).map((r) => r.dataset_id);
  const page = ids.slice(0, limit);
  const found = page.length ? await rows<DatasetRow>(deps.db, sql`${SELECT} where dataset_id in (${sql.join(page.map((i) => sql`${i}`), sql`, `)})`) : [];
  const byId = new Map(found.map((r) => [r.dataset_id, r]));
  const tags = await loadTags(deps.db, page);
  const datasets = page.filter((i) => byId.has(i)).map((i) => toWire(byId.get(i)!, tags.get(i)!));
  return ids.length > limit ? { datasets, next_page_token: encodeOffsetToken(offset + limit) } : { datasets };
}

/** Merges tags into the dataset's (upsert by key). */
export async function setDatasetTags(deps: Deps, id: string, tagsText: string): Promise<void> {
  const tags = tagEntries(tagsText);
  await deps.db.transaction(async (tx) => {
    await datasetRow(tx, id, true, (i) => notFound(`Could not find evaluation dataset with ID ${i.slice(0, 100)}`));
    for (const [k, v] of tags) {
      await tx.execute(sql`insert into evaluation_dataset_tags (dataset_id, key, value) values (${id}, ${k}, ${v})
        on conflict (dataset_id, key) do update set value = excluded.value`);
    }
  });
}

/** Idempotent, as MLflow: a missing dataset or tag is not an error. */
export async function deleteDatasetTag(deps: Deps, id: string, key: string): Promise<void> {
  await deps.db.execute(sql`delete from evaluation_dataset_tags where dataset_id = ${id} and key = ${key}`);
}

/** The experiments a dataset is linked to, in id order. */
export async function datasetExperimentIds(deps: Deps, id: string): Promise<string[]> {
  const found = await rows<{ experiment_id: string | number }>(
    deps.db,
    sql`select experiment_id from evaluation_dataset_experiments where dataset_id = ${id} order by experiment_id`,
  );
  return found.map((r) => String(r.experiment_id));
}

const linkMissing = (id: string) => notFound(`Dataset '${id.slice(0, 100)}' not found`);

export async function addDatasetToExperiments(deps: Deps, id: string, experimentIds: string[]): Promise<DatasetWire> {
  await deps.db.transaction(async (tx) => {
    await datasetRow(tx, id, true, linkMissing);
    for (const e of await existingExperiments(tx, experimentIds)) {
      await tx.execute(sql`insert into evaluation_dataset_experiments (dataset_id, experiment_id) values (${id}, ${e}) on conflict do nothing`);
    }
    await tx.execute(sql`update evaluation_datasets set last_update_time = ${deps.now()} where dataset_id = ${id}`);
  });
  return wireOf(deps.db, id);
}

/** Idempotent: unlinking an experiment the dataset is not linked to is not an error. */
export async function removeDatasetFromExperiments(deps: Deps, id: string, experimentIds: string[]): Promise<DatasetWire> {
  await deps.db.transaction(async (tx) => {
    await datasetRow(tx, id, true, linkMissing);
    const ids = experimentIds.filter((e) => /^\d{1,15}$/.test(e)).map(Number);
    if (!ids.length) return;
    const removed = await rows(
      tx,
      sql`delete from evaluation_dataset_experiments where dataset_id = ${id} and experiment_id in (${sql.join(ids.map((e) => sql`${e}`), sql`, `)}) returning 1`,
    );
    if (removed.length) await tx.execute(sql`update evaluation_datasets set last_update_time = ${deps.now()} where dataset_id = ${id}`);
  });
  return wireOf(deps.db, id);
}
