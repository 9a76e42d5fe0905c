import { sql, type SQL } from 'drizzle-orm';
import { preparedRows, type Orm } from '../db/connect.js';
import { notFound } from '../errors.js';
import { checkRunId } from './ids.js';
import { int64Out, type Int64 } from '../lib/int64.js';
import { wireDouble } from '../lib/json-body.js';
import { textArray } from '../lib/pg-array.js';

type KV = { key: string; value: string };

export interface RunInfoWire {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time?: Int64;
  end_time?: Int64;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface RunWire {
  info: RunInfoWire;
  data: { metrics?: { key: string; value: number | string; timestamp: Int64; step: Int64 }[]; params?: KV[]; tags?: KV[] };
  inputs: { dataset_inputs?: { tags?: KV[]; dataset: Record<string, string> }[]; model_inputs?: { model_id: string }[] };
  outputs: { model_outputs?: { model_id: string; step: Int64 }[] };
}

// node-postgres returns bigint columns as strings, PGlite as numbers (bigints past 2^53): int64Out takes all three.
export interface RunRow {
  run_id: string;
  experiment_id: number | string;
  name: string;
  user_id: string;
  status: string;
  start_time: number | string | bigint | null;
  end_time: number | string | bigint | null;
  artifact_uri: string;
  lifecycle_stage: string;
}

export const RUN_COLUMNS = sql`run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage`;

/** One row of loadRuns' query: `k` says which part of a run it is, c1…c8 hold that part's fields as text. */
interface PartRow {
  k: number;
  run_id: string;
  c1: string;
  c2: string | null;
  c3: string | null;
  c4: string | null;
  c5: string | null;
  c6: string | null;
  c7: string | null;
  c8: string | null;
}

const RUN = 0;
const PARAM = 1;
const TAG = 2;
const METRIC = 3;
const DATASET = 4;
const MODEL_INPUT = 5;
const MODEL_OUTPUT = 6;

/**
 * Full runs in the order of `runIds`; ids that do not exist are left out. Every part of every run
 * (info, params, tags, latest metrics, dataset and model inputs, model outputs) comes from one
 * UNION ALL of flat, index-driven selects, so a page of runs costs one round trip: each query costs
 * two system calls and a plan on a busy machine, which made seven parallel queries the larger part
 * of get_run. Values travel as text (what the wire protocol carries anyway) and are typed here.
 */
export async function loadRuns(db: Orm, runIds: string[]): Promise<RunWire[]> {
  if (!runIds.length) return [];
  const idArray = sql`${textArray(runIds)}::text[]`;
  const ids = sql`any(${idArray})`;
  // The four big tables are probed run by run through their (run_id, …) keys: a LATERAL subquery
  // fenced with OFFSET 0 keeps the planner from turning 1000 probes into a hash join over a
  // sequential scan of the whole table, so the cost follows the page size, not the table size.
  const each = (from: SQL) => sql`unnest(${idArray}) as ids(id) cross join lateral (${from} offset 0) x`;
  // Sorted by part, then n (model output steps), c1, c2: within each run, params, tags and metrics by
  // key, dataset inputs by (name, digest), model inputs by id, model outputs by (step, id).
  const parts = await preparedRows<PartRow>(
    db,
    'cairn_load_runs',
    sql`select ${RUN}::int as k, x.run_id, x.name as c1, x.user_id as c2, x.status as c3, x.artifact_uri as c4, x.lifecycle_stage as c5,
               x.experiment_id::text as c6, x.start_time::text as c7, x.end_time::text as c8, null::bigint as n
          from ${each(sql`select run_id, name, user_id, status, artifact_uri, lifecycle_stage, experiment_id, start_time, end_time from runs r where r.run_id = ids.id`)}
        union all
        select ${PARAM}, x.run_id, x.key, x.value, null, null, null, null, null, null, null
          from ${each(sql`select run_id, key, value from params p where p.run_id = ids.id`)}
        union all
        select ${TAG}, x.run_id, x.key, x.value, null, null, null, null, null, null, null
          from ${each(sql`select run_id, key, value from run_tags t where t.run_id = ids.id`)}
        union all
        select ${METRIC}, x.run_id, x.key, x.value::text, x.timestamp::text, x.step::text, null, null, null, null, null
          from ${each(sql`select run_id, key, value, timestamp, step from latest_metrics m where m.run_id = ids.id`)}
        union all
        select ${DATASET}, i.run_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile, i.tags, null, null
          from run_dataset_inputs i join datasets d on d.dataset_id = i.dataset_id where i.run_id = ${ids}
        union all
        select ${MODEL_INPUT}, run_id, model_id, null, null, null, null, null, null, null, null from run_model_inputs where run_id = ${ids}
        union all
        select ${MODEL_OUTPUT}, run_id, model_id, step::text, null, null, null, null, null, null, step from run_model_outputs where run_id = ${ids}
        order by k, n, c1, c2`,
  );
  const byId = new Map<string, RunWire>();
  for (const p of parts) {
    if (p.k === RUN) {
      const info = toRunInfo({
        run_id: p.run_id,
        name: p.c1,
        user_id: p.c2!,
        status: p.c3!,
        artifact_uri: p.c4!,
        lifecycle_stage: p.c5!,
        experiment_id: p.c6!,
        start_time: p.c7,
        end_time: p.c8,
      });
      byId.set(p.run_id, { info, data: {}, inputs: {}, outputs: {} });
      continue;
    }
    const run = byId.get(p.run_id);
    if (!run) continue;
    switch (p.k) {
      case PARAM:
        (run.data.params ??= []).push({ key: p.c1, value: p.c2! });
        break;
      case TAG:
        (run.data.tags ??= []).push({ key: p.c1, value: p.c2! });
        break;
      case METRIC:
        (run.data.metrics ??= []).push({ key: p.c1, value: wireDouble(Number(p.c2)), timestamp: int64Out(p.c3!), step: int64Out(p.c4!) });
        break;
      case DATASET: {
        const dataset: Record<string, string> = { name: p.c1, digest: p.c2!, source_type: p.c3!, source: p.c4! };
        if (p.c5 != null) dataset.schema = p.c5;
        if (p.c6 != null) dataset.profile = p.c6;
        const inputTags = JSON.parse(p.c7!) as KV[];
        (run.inputs.dataset_inputs ??= []).push(inputTags.length ? { tags: inputTags, dataset } : { dataset });
        break;
      }
      case MODEL_INPUT:
        (run.inputs.model_inputs ??= []).push({ model_id: p.c1 });
        break;
      case MODEL_OUTPUT:
        (run.outputs.model_outputs ??= []).push({ model_id: p.c1, step: int64Out(p.c2!) });
        break;
    }
  }
  const out: RunWire[] = [];
  for (const id of runIds) {
    const run = byId.get(id);
    if (run) out.push(run);
  }
  return out;
}

export async function loadRun(db: Orm, runId: string): Promise<RunWire> {
  checkRunId(runId);
  const [run] = await loadRuns(db, [runId]);
  if (!run) throw notFound(`Run with id=${runId} not found`);
  return run;
}

export function toRunInfo(r: RunRow): RunInfoWire {
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
  if (r.start_time != null) info.start_time = int64Out(r.start_time);
  if (r.end_time != null) info.end_time = int64Out(r.end_time);
  return info;
}
