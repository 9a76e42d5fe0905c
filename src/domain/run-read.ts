import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import { notFound } from '../errors.js';
import { textArray } from '../lib/pg-array.js';
import { wireDouble } from '../lib/json-body.js';

type KV = { key: string; value: string };

export interface RunInfoWire {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface RunWire {
  info: RunInfoWire;
  data: { metrics?: { key: string; value: number | string; timestamp: number; step: number }[]; params?: KV[]; tags?: KV[] };
  inputs: { dataset_inputs?: unknown[]; model_inputs?: { model_id: string }[] };
  outputs: { model_outputs?: { model_id: string; step: number }[] };
}

interface RunRow {
  run_id: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number | null;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
  params: KV[] | null;
  tags: KV[] | null;
  metrics: { key: string; value: number | string; timestamp: number; step: number }[] | null;
  datasets: { tags: KV[]; dataset: Record<string, string> }[] | null;
  model_inputs: { model_id: string }[] | null;
  model_outputs: { model_id: string; step: number }[] | null;
}

// One round trip for any number of runs: each part of a run is a correlated json_agg on its primary key.
// Postgres writes NaN and ±Infinity in JSON as the strings "NaN"/"Infinity", exactly MLflow's wire form.
const SELECT_RUNS = sql`
  select r.run_id, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.artifact_uri, r.lifecycle_stage,
    (select json_agg(json_build_object('key', p.key, 'value', p.value) order by p.key) from params p where p.run_id = r.run_id) as params,
    (select json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key) from run_tags t where t.run_id = r.run_id) as tags,
    (select json_agg(json_build_object('key', m.key, 'value', m.value, 'timestamp', m.timestamp, 'step', m.step) order by m.key)
       from latest_metrics m where m.run_id = r.run_id) as metrics,
    (select json_agg(json_build_object(
        'tags', i.tags::json,
        'dataset', json_strip_nulls(json_build_object('name', d.name, 'digest', d.digest, 'source_type', d.source_type,
                                                      'source', d.source, 'schema', d.schema, 'profile', d.profile)))
        order by d.name, d.digest)
       from run_dataset_inputs i join datasets d on d.dataset_id = i.dataset_id where i.run_id = r.run_id) as datasets,
    (select json_agg(json_build_object('model_id', mi.model_id) order by mi.model_id) from run_model_inputs mi where mi.run_id = r.run_id) as model_inputs,
    (select json_agg(json_build_object('model_id', mo.model_id, 'step', mo.step) order by mo.step, mo.model_id)
       from run_model_outputs mo where mo.run_id = r.run_id) as model_outputs
  from runs r`;

/** Full runs in the order of `runIds`; ids that do not exist are left out. */
export async function loadRuns(db: Orm, runIds: string[]): Promise<RunWire[]> {
  if (!runIds.length) return [];
  const found = await rows<RunRow>(
    db,
    sql`${SELECT_RUNS} join unnest(${textArray(runIds)}::text[]) with ordinality as ids(run_id, pos) on ids.run_id = r.run_id order by ids.pos`,
  );
  return found.map(toRunWire);
}

export async function loadRun(db: Orm, runId: string): Promise<RunWire> {
  const found = await rows<RunRow>(db, sql`${SELECT_RUNS} where r.run_id = ${runId}`);
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
  return toRunWire(found[0]);
}

export function toRunInfo(r: Pick<RunRow, 'run_id' | 'experiment_id' | 'name' | 'user_id' | 'status' | 'start_time' | 'end_time' | 'artifact_uri' | 'lifecycle_stage'>): RunInfoWire {
  const info: RunInfoWire = {
    run_id: r.run_id,
    run_uuid: r.run_id,
    run_name: r.name,
    experiment_id: String(r.experiment_id),
    user_id: r.user_id,
    status: r.status,
    artifact_uri: r.artifact_uri,
    lifecycle_stage: r.lifecycle_stage,
  };
  if (r.start_time != null) info.start_time = Number(r.start_time);
  if (r.end_time != null) info.end_time = Number(r.end_time);
  return info;
}

function toRunWire(r: RunRow): RunWire {
  const data: RunWire['data'] = {};
  if (r.metrics) data.metrics = r.metrics.map((m) => ({ ...m, value: typeof m.value === 'number' ? wireDouble(m.value) : m.value }));
  if (r.params) data.params = r.params;
  if (r.tags) data.tags = r.tags;
  const inputs: RunWire['inputs'] = {};
  if (r.datasets) inputs.dataset_inputs = r.datasets.map((d) => (d.tags.length ? d : { dataset: d.dataset }));
  if (r.model_inputs) inputs.model_inputs = r.model_inputs;
  const outputs: RunWire['outputs'] = {};
  if (r.model_outputs) outputs.model_outputs = r.model_outputs;
  return { info: toRunInfo(r), data, inputs, outputs };
}
