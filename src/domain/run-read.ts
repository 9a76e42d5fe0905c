import { sql, type SQL } from 'drizzle-orm';
import { preparedRows, rows, type Orm } from '../db/connect.js';
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

/**
 * The one row of loadRuns' query: each table's rows for the whole page as one JSON array of arrays,
 * sorted by run and then as the wire lists are (see hydrationQuery).
 */
interface PageRow {
  runs: string | null;
  params: string | null;
  tags: string | null;
  metrics: string | null;
  datasets: string | null;
  model_inputs: string | null;
  model_outputs: string | null;
  /** The statement's snapshot (pg_current_snapshot), for run-cache.ts to tell which writes these rows include. */
  snap: string;
}

/**
 * Full runs in the order of `runIds`; ids that do not exist are left out. One prepared statement
 * (hydrationQuery), one row: a page of 100 runs in one round trip, planned once per connection.
 * int64 values travel as strings so that none loses digits; non-finite doubles arrive as the
 * strings "NaN", "Infinity", "-Infinity".
 */
export async function loadRuns(db: Orm, runIds: string[]): Promise<RunWire[]> {
  return (await loadRunsRead(db, runIds)).runs;
}

/** loadRuns, and the snapshot they were read in (a pg_snapshot's text; '' for no ids). */
export async function loadRunsRead(db: Orm, runIds: string[]): Promise<{ runs: RunWire[]; snapshot: string }> {
  if (!runIds.length) return { runs: [], snapshot: '' };
  const [row] = await preparedRows<PageRow>(db, 'cairn_load_runs', hydrationQuery(sql`select ${textArray(runIds)}::text[] as ids`));
  return { runs: hydrated(runIds, row), snapshot: row.snap };
}

/**
 * One statement, one row: for each table, the rows of the page's runs as one JSON array built by
 * Postgres, sorted in a subquery (by run, then as each wire list is ordered) so that the aggregate
 * itself sorts nothing. `page` yields one row holding the ids (an array). Against the previous
 * form, one row per run with a correlated, sorted json_agg per table, the page of 100 runs at 100k
 * (bench/search-seed.sql) took 3.0 instead of 3.9 ms with the ids' query, both prepared (4.4 ms
 * when that form held the ids' query too, planned at each call; docs/bench.md): an ORDER BY inside
 * json_agg sorts each run's few rows apart, and json_build_array looks up its argument types at
 * every call. params, tags and metrics are probed with `= any(<the ids>)` (one index scan each);
 * the runs and the small tables (dataset and model inputs, model outputs) join the ids: Postgres
 * hashes a constant array for `any`, not one computed in the statement (or a generic plan's
 * parameter), so a scan of a small table would compare each row with each id (1k runs: the runs'
 * part took 2.2 ms as a scan with `any`, 0.7 ms joined; the join for params, tags and metrics
 * costs 1 ms more a page at 100k runs).
 */
function hydrationQuery(page: SQL): SQL {
  const ids = sql`(select ids from page)::text[]`;
  const idSet = sql`(select unnest(ids) from page)`;
  // `cells` name the columns of `from` as `select` gives them (aliases included), for the outer array.
  const sorted = (cells: SQL, select: SQL, from: SQL, order: SQL) =>
    sql`(select json_agg(json_build_array(${cells}))::text from (select ${select} from ${from} order by ${order}) x)`;
  const kv = sql`run_id, key, value`;
  return sql`with page as (${page})
    select
      (select json_agg(json_build_array(run_id, name, user_id, status, artifact_uri, lifecycle_stage, experiment_id::text, start_time::text, end_time::text))::text
         from runs where run_id in ${idSet}) as runs,
      ${sorted(kv, kv, sql`params where run_id = any(${ids})`, sql`run_id, key`)} as params,
      ${sorted(kv, kv, sql`run_tags where run_id = any(${ids})`, sql`run_id, key`)} as tags,
      ${sorted(sql`run_id, key, value, ts, st`, sql`run_id, key, value, timestamp::text as ts, step::text as st`, sql`latest_metrics where run_id = any(${ids})`, sql`run_id, key`)} as metrics,
      ${sorted(
        sql`run_id, name, digest, source_type, source, schema, profile, tags`,
        sql`i.run_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile, i.tags`,
        sql`run_dataset_inputs i join datasets d on d.dataset_id = i.dataset_id where i.run_id in ${idSet}`,
        sql`i.run_id, d.name, d.digest`,
      )} as datasets,
      ${sorted(sql`run_id, model_id`, sql`run_id, model_id`, sql`run_model_inputs where run_id in ${idSet}`, sql`run_id, model_id`)} as model_inputs,
      ${sorted(sql`run_id, model_id, st`, sql`run_id, model_id, step, step::text as st`, sql`run_model_outputs where run_id in ${idSet}`, sql`run_id, step, model_id`)} as model_outputs,
      pg_current_snapshot()::text as snap`;
}

type RunCells = [string, string, string, string, string, string, string, string | null, string | null];

/** hydrationQuery's row as runs on the wire, in the order of `ids` (ids without a run left out). */
function hydrated(ids: readonly string[], row: PageRow): RunWire[] {
  if (!row.runs) return [];
  const byId = new Map<string, RunWire>();
  for (const [run_id, name, user_id, status, artifact_uri, lifecycle_stage, experiment_id, start_time, end_time] of JSON.parse(row.runs) as RunCells[]) {
    const info = toRunInfo({ run_id, name, user_id, status, artifact_uri, lifecycle_stage, experiment_id, start_time, end_time });
    byId.set(run_id, { info, data: {}, inputs: {}, outputs: {} });
  }
  // Each list is sorted by run: a run's entries are consecutive, appended to the list begun at its first.
  const each = <T extends unknown[]>(json: string | null, add: (run: RunWire, cells: T) => void) => {
    if (!json) return;
    for (const cells of JSON.parse(json) as T[]) {
      const run = byId.get(cells[0] as string);
      if (run) add(run, cells);
    }
  };
  each<[string, string, string]>(row.params, (run, [, key, value]) => (run.data.params ??= []).push({ key, value }));
  each<[string, string, string]>(row.tags, (run, [, key, value]) => (run.data.tags ??= []).push({ key, value }));
  each<[string, string, number | string, string, string]>(row.metrics, (run, [, key, value, timestamp, step]) =>
    (run.data.metrics ??= []).push({ key, value: wireDouble(Number(value)), timestamp: int64Out(timestamp), step: int64Out(step) }),
  );
  each<[string, ...(string | null)[]]>(row.datasets, (run, [, name, digest, sourceType, source, schema, profile, tags]) => {
    const dataset: Record<string, string> = { name: name!, digest: digest!, source_type: sourceType!, source: source! };
    if (schema != null) dataset.schema = schema;
    if (profile != null) dataset.profile = profile;
    const inputTags = JSON.parse(tags!) as KV[];
    (run.inputs.dataset_inputs ??= []).push(inputTags.length ? { tags: inputTags, dataset } : { dataset });
  });
  each<[string, string]>(row.model_inputs, (run, [, model_id]) => (run.inputs.model_inputs ??= []).push({ model_id }));
  each<[string, string, string]>(row.model_outputs, (run, [, model_id, step]) => (run.outputs.model_outputs ??= []).push({ model_id, step: int64Out(step) }));
  const out: RunWire[] = [];
  for (const id of ids) {
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
