import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { checkStorableJson } from '../../lib/storable-text.js';
import { pythonJson } from '../registry/logged-models.js';
import { datasetDigest, datasetRow, isObj, parseJsonField, type Obj } from './datasets.js';

// An evaluation dataset's records (EvaluationDataset.merge_records, .records, .to_df()). A record is
// keyed by its inputs: merging one whose inputs are already there updates that record (outputs
// replaced, expectations and tags merged) instead of adding another, as MLflow does.

const MLFLOW_USER = 'mlflow.user';
const SOURCE_TYPES = new Set(['UNSPECIFIED', 'TRACE', 'HUMAN', 'DOCUMENT', 'CODE']);
const MAX_RECORDS_PER_CALL = 10_000;

interface RecordRow {
  dataset_record_id: string;
  dataset_id: string;
  inputs: string;
  outputs: string | null;
  expectations: string | null;
  tags: string | null;
  source: string | null;
  source_id: string | null;
  source_type: string | null;
  created_time: string | number;
  last_update_time: string | number;
  created_by: string | null;
  last_updated_by: string | null;
}

/** JSON with keys sorted at every level: the inputs' identity, whatever order the client wrote them in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/** A record's `source` as MLflow normalises it ({source_type, source_data}) and the source id it implies. */
function sourceOf(raw: unknown): { source: Obj; sourceId: string | null; sourceType: string } | null {
  if (raw === undefined || raw === null) return null;
  if (!isObj(raw)) throw invalidParam('A dataset record source must be an object with source_type and source_data');
  const type = typeof raw.source_type === 'string' ? raw.source_type.toUpperCase() : '';
  if (!SOURCE_TYPES.has(type)) {
    throw invalidParam(`Invalid dataset record source type: ${JSON.stringify(raw.source_type)?.slice(0, 100)}. Must be one of: ${[...SOURCE_TYPES].join(', ')}`);
  }
  const data = isObj(raw.source_data) ? raw.source_data : {};
  const id = type === 'TRACE' ? data.trace_id : data.source_id;
  return { source: { source_type: type, source_data: data }, sourceId: typeof id === 'string' ? id : null, sourceType: type };
}

/** MLflow's field-type names for the dataset schema. */
function fieldType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (typeof v === 'string') return 'string';
  return Array.isArray(v) ? 'array' : 'object';
}

/** The dataset schema grown by the records' new keys (a key's first type stays). */
function grownSchema(existing: string | null, records: Obj[]): Obj {
  const schema = (existing ? JSON.parse(existing) : { inputs: {}, outputs: {}, expectations: {}, version: '1.0' }) as Record<string, Obj>;
  const add = (part: string, values: unknown) => {
    // A part typed by a non-object value (outputs: "string") takes no keys after it.
    if (!isObj(values) || !isObj(schema[part])) return;
    for (const [k, v] of Object.entries(values)) if (!(k in schema[part])) schema[part][k] = fieldType(v);
  };
  for (const r of records) {
    add('inputs', r.inputs);
    if (r.outputs !== undefined && r.outputs !== null) {
      if (isObj(r.outputs)) add('outputs', r.outputs);
      else if (!Object.keys(schema.outputs ?? {}).length && typeof schema.outputs !== 'string') (schema as Obj).outputs = fieldType(r.outputs);
    }
    add('expectations', r.expectations);
  }
  return schema;
}

function parseRecords(text: string): Obj[] {
  const records = parseJsonField(text, 'records');
  if (!Array.isArray(records)) throw invalidParam("Invalid value for parameter 'records': it must be a JSON list of records");
  if (records.length > MAX_RECORDS_PER_CALL) throw invalidParam(`At most ${MAX_RECORDS_PER_CALL} records may be merged in one call`);
  records.forEach((r, i) => {
    if (!isObj(r)) throw invalidParam(`Record ${i} must be an object`);
    for (const k of ['inputs', 'expectations', 'tags'] as const) {
      if (r[k] !== undefined && r[k] !== null && !isObj(r[k])) throw invalidParam(`Record ${i}: '${k}' must be an object`);
    }
    checkStorableJson(r, `records[${i}]`);
  });
  return records as Obj[];
}

/** UpsertDatasetRecords: inserts new records, updates those whose inputs are already there. */
export async function upsertDatasetRecords(deps: Deps, id: string, recordsText: string): Promise<{ inserted_count: number; updated_count: number }> {
  const records = parseRecords(recordsText);
  const now = deps.now();
  let inserted = 0;
  let updated = 0;
  await deps.db.transaction(async (tx) => {
    const dataset = await datasetRow(tx, id, true);
    let updatedBy: string | null = null;
    for (const r of records) {
      const inputs = (r.inputs ?? {}) as Obj;
      const hash = createHash('sha256').update(canonical(inputs)).digest('hex');
      const tags = isObj(r.tags) && Object.keys(r.tags).length ? (r.tags as Obj) : null;
      const user = tags && typeof tags[MLFLOW_USER] === 'string' ? (tags[MLFLOW_USER] as string) : null;
      if (user) updatedBy = user;
      const found = await rows<RecordRow>(tx, sql`select * from evaluation_dataset_records where dataset_id = ${id} and input_hash = ${hash} for update`);
      if (found.length) {
        const old = found[0];
        const outputs = 'outputs' in r ? json(r.outputs) : old.outputs;
        const expectations = isObj(r.expectations) && Object.keys(r.expectations).length
          ? JSON.stringify({ ...(old.expectations ? JSON.parse(old.expectations) : {}), ...r.expectations })
          : old.expectations;
        const mergedTags = tags ? JSON.stringify({ ...(old.tags ? JSON.parse(old.tags) : {}), ...tags }) : old.tags;
        await tx.execute(sql`update evaluation_dataset_records set outputs = ${outputs}, expectations = ${expectations}, tags = ${mergedTags},
          last_update_time = ${now}, last_updated_by = ${user ?? old.last_updated_by} where dataset_record_id = ${old.dataset_record_id}`);
        updated++;
        continue;
      }
      const source = sourceOf(r.source);
      // MLflow stores absent outputs as {} and absent tags as {}, and reads them back so.
      await tx.execute(sql`insert into evaluation_dataset_records (dataset_record_id, dataset_id, input_hash, inputs, outputs, expectations, tags,
          source, source_id, source_type, created_time, last_update_time, created_by, last_updated_by)
        values (${`dr-${randomUUID().replace(/-/g, '')}`}, ${id}, ${hash}, ${JSON.stringify(inputs)}, ${'outputs' in r ? json(r.outputs) : '{}'},
          ${json(r.expectations)}, ${json(r.tags ?? {})}, ${source ? JSON.stringify(source.source) : null}, ${source?.sourceId ?? null},
          ${source?.sourceType ?? null}, ${now}, ${now}, ${user}, ${user})`);
      inserted++;
    }
    const count = await rows<{ n: string | number }>(tx, sql`select count(*) as n from evaluation_dataset_records where dataset_id = ${id}`);
    const n = Number(count[0].n);
    const schema = records.length || dataset.schema ? pythonJson(grownSchema(dataset.schema, records)) : null;
    await tx.execute(sql`update evaluation_datasets set last_update_time = ${now}, last_updated_by = ${updatedBy}, digest = ${datasetDigest(dataset.name, now)},
      schema = ${schema}, profile = ${n ? pythonJson({ num_records: n }) : dataset.profile} where dataset_id = ${id}`);
  });
  return { inserted_count: inserted, updated_count: updated };
}

/** A record as MLflow's DatasetRecord.to_dict() writes it (its proto field order, JSON fields parsed). */
function recordDict(r: RecordRow): Obj {
  const parse = (t: string | null) => (t === null ? undefined : (JSON.parse(t) as unknown));
  const out: Obj = { dataset_record_id: r.dataset_record_id, dataset_id: r.dataset_id, inputs: JSON.parse(r.inputs) };
  if (r.expectations !== null) out.expectations = parse(r.expectations);
  out.tags = parse(r.tags) ?? {};
  if (r.source !== null) out.source = parse(r.source);
  if (r.source_id !== null) out.source_id = r.source_id;
  if (r.source_type !== null) out.source_type = r.source_type;
  out.created_time = Number(r.created_time);
  out.last_update_time = Number(r.last_update_time);
  if (r.created_by !== null) out.created_by = r.created_by;
  if (r.last_updated_by !== null) out.last_updated_by = r.last_updated_by;
  if (r.outputs !== null) out.outputs = parse(r.outputs);
  return out;
}

/** A page of records, oldest first, as JSON text; the page token is MLflow's "<created_time>:<record id>" cursor in base64. */
export async function getDatasetRecords(
  deps: Deps,
  id: string,
  maxResults: number | undefined,
  pageToken: string | undefined,
): Promise<{ records: string; next_page_token?: string }> {
  const limit = maxResults || 1000;
  if (limit < 1 || limit > 50_000) throw invalidParam(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and 50000`);
  // As MLflow: a dataset that does not exist has no records (not a 404).
  let after = sql``;
  if (pageToken) {
    const m = /^(\d{1,16}):(.{1,100})$/s.exec(Buffer.from(pageToken, 'base64').toString('utf8'));
    if (!m) throw invalidParam(`Invalid page token: ${pageToken.slice(0, 100)}`);
    after = sql` and (created_time, dataset_record_id) > (${Number(m[1])}, ${m[2]})`;
  }
  const found = await rows<RecordRow>(
    deps.db,
    sql`select * from evaluation_dataset_records where dataset_id = ${id}${after} order by created_time, dataset_record_id limit ${limit + 1}`,
  );
  const page = found.slice(0, limit);
  const records = pythonJson(page.map(recordDict));
  if (found.length <= limit) return { records };
  const last = page[page.length - 1];
  return { records, next_page_token: Buffer.from(`${Number(last.created_time)}:${last.dataset_record_id}`).toString('base64') };
}

/** Deletes records by id; the profile's count follows (MLflow writes "null" when none remain). */
export async function deleteDatasetRecords(deps: Deps, id: string, recordIds: string[]): Promise<{ deleted_count: number }> {
  return deps.db.transaction(async (tx) => {
    // As MLflow: nothing to delete in a dataset that does not exist is a count of 0, not a 404.
    const [dataset] = await rows<{ profile: string | null }>(tx, sql`select profile from evaluation_datasets where dataset_id = ${id} for update`);
    if (!dataset || !recordIds.length) return { deleted_count: 0 };
    const list = sql.join(recordIds.map((r) => sql`${r}`), sql`, `);
    const deleted = (await rows(tx, sql`delete from evaluation_dataset_records where dataset_id = ${id} and dataset_record_id in (${list}) returning 1`)).length;
    if (!deleted) return { deleted_count: 0 };
    const before = dataset.profile ? (JSON.parse(dataset.profile) as { num_records?: number } | null) : null;
    const left = Math.max(0, (before?.num_records ?? 0) - deleted);
    await tx.execute(sql`update evaluation_datasets set profile = ${pythonJson(left > 0 ? { num_records: left } : null)} where dataset_id = ${id}`);
    return { deleted_count: deleted };
  });
}

