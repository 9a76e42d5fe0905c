import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam } from '../errors.js';
import { newUuid } from '../lib/ids.js';
import type { Int64 } from '../lib/int64.js';
import { activeRun } from './runs.js';

export interface DatasetInput {
  tags?: { key: string; value?: string }[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

const DATASET_LIMITS = { name: 500, digest: 36, source: 65_535, schema: 1_048_575, profile: 16_777_215, tagKey: 255, tagValue: 500 };
const CONTEXT_TAG = 'mlflow.data.context';

function validateDataset(d: DatasetInput): void {
  const ds = d.dataset;
  for (const field of ['name', 'digest', 'source_type', 'source'] as const) {
    if (!ds[field]) throw invalidParam(`Missing value for required parameter 'dataset.${field}'.`);
  }
  for (const field of ['name', 'digest', 'source', 'schema', 'profile'] as const) {
    const v = ds[field];
    if (v && v.length > DATASET_LIMITS[field]) throw invalidParam(`Dataset ${field} exceeds the maximum length of ${DATASET_LIMITS[field]}`);
  }
  for (const t of d.tags ?? []) {
    if (!t.key || t.key.length > DATASET_LIMITS.tagKey) throw invalidParam(`Invalid dataset input tag key '${t.key.slice(0, 50)}'`);
    if ((t.value ?? '').length > DATASET_LIMITS.tagValue) throw invalidParam(`Dataset input tag value exceeds ${DATASET_LIMITS.tagValue} characters`);
  }
}

export async function logInputs(
  deps: Deps,
  input: { run_id: string; datasets?: DatasetInput[]; models?: { model_id: string }[] },
): Promise<void> {
  const datasets = input.datasets ?? [];
  datasets.forEach(validateDataset);
  await deps.db.transaction(async (tx) => {
    await activeRun(tx, input.run_id);
    const [{ experiment_id: experimentId }] = await rows<{ experiment_id: number }>(tx, sql`select experiment_id from runs where run_id = ${input.run_id}`);
    for (const d of datasets) {
      const ds = d.dataset;
      // A dataset is identified by (experiment, name, digest): the first logging defines it.
      const [{ dataset_id: datasetId }] = await rows<{ dataset_id: string }>(
        tx,
        sql`with ins as (
              insert into datasets (dataset_id, experiment_id, name, digest, source_type, source, schema, profile)
              values (${newUuid()}, ${experimentId}, ${ds.name}, ${ds.digest}, ${ds.source_type}, ${ds.source}, ${ds.schema ?? null}, ${ds.profile ?? null})
              on conflict (experiment_id, name, digest) do nothing returning dataset_id)
            select dataset_id from ins union all
            select dataset_id from datasets where experiment_id = ${experimentId} and name = ${ds.name} and digest = ${ds.digest}
            limit 1`,
      );
      const tags = (d.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' }));
      const context = tags.find((t) => t.key === CONTEXT_TAG)?.value ?? null;
      await tx.execute(sql`insert into run_dataset_inputs (run_id, dataset_id, tags, context)
                           values (${input.run_id}, ${datasetId}, ${JSON.stringify(tags)}, ${context})
                           on conflict (run_id, dataset_id) do nothing`);
    }
    for (const m of input.models ?? []) {
      await tx.execute(sql`insert into run_model_inputs (run_id, model_id) values (${input.run_id}, ${m.model_id}) on conflict do nothing`);
    }
  });
}

export async function logOutputs(deps: Deps, input: { run_id: string; models: { model_id: string; step?: Int64 }[] }): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await activeRun(tx, input.run_id);
    for (const m of input.models) {
      await tx.execute(sql`insert into run_model_outputs (run_id, model_id, step) values (${input.run_id}, ${m.model_id}, ${m.step ?? 0})
                           on conflict do nothing`);
    }
  });
}

const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';

/** Legacy Model._log_v2: the model's JSON is appended to a run tag holding the list of logged models. */
export async function logModel(deps: Deps, input: { run_id: string; model_json: string }): Promise<void> {
  let model: unknown;
  try {
    model = JSON.parse(input.model_json);
  } catch {
    throw invalidParam(`Malformed model info. 'model_json' is not valid JSON.`);
  }
  if (!model || typeof model !== 'object' || Array.isArray(model)) throw invalidParam('Malformed model info. Expected a JSON object.');
  for (const field of ['artifact_path', 'flavors', 'utc_time_created', 'run_id']) {
    if (!(field in model)) throw invalidParam(`Model json is missing mandatory fields: ['${field}']`);
  }
  await deps.db.transaction(async (tx) => {
    await activeRun(tx, input.run_id);
    const existing = await rows<{ value: string }>(tx, sql`select value from run_tags where run_id = ${input.run_id} and key = ${LOG_MODEL_HISTORY_TAG} for update`);
    let history: unknown[] = [];
    try {
      const parsed = existing.length ? JSON.parse(existing[0].value) : [];
      if (Array.isArray(parsed)) history = parsed;
    } catch {
      history = [];
    }
    // A retried request must not append the same model twice.
    const serialized = JSON.stringify(model);
    if (!history.some((h) => JSON.stringify(h) === serialized)) history.push(model);
    await tx.execute(sql`insert into run_tags (run_id, key, value) values (${input.run_id}, ${LOG_MODEL_HISTORY_TAG}, ${JSON.stringify(history)})
                         on conflict (run_id, key) do update set value = excluded.value`);
  });
}
