import { sql, type SQL } from 'drizzle-orm';
import { preparedRows, rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import type { Int64 } from '../lib/int64.js';
import { nullableTextArray, numberArray, textArray } from '../lib/pg-array.js';
import { blockWrites } from './metric-blocks.js';
import { checkRunId } from './ids.js';
import { activeRun, RUN_NAME_TAG } from './runs.js';
import { LIMITS, truncate, validateKey } from './validation.js';

export interface MetricInput {
  key: string;
  value: number;
  timestamp?: Int64;
  step?: Int64;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}
export interface KeyValueInput {
  key: string;
  value?: string;
}
export interface BatchInput {
  metrics?: MetricInput[];
  params?: KeyValueInput[];
  tags?: KeyValueInput[];
  /** log-parameter: a conflict is worded as MLflow words it for one param. */
  singleParam?: boolean;
}

/**
 * Every logging call (log-metric, log-parameter, set-tag, log-batch) is a batch: validated whole,
 * then written in one transaction of at most four statements (one statement for metrics alone), so a
 * rejected batch writes nothing and a retried one changes nothing.
 */
export async function logBatch(deps: Deps, runId: string, batch: BatchInput): Promise<void> {
  const metrics = batch.metrics ?? [];
  const params = batch.params ?? [];
  const tags = batch.tags ?? [];
  checkBatchLimits(metrics.length, params.length, tags.length);
  checkRunId(runId);
  for (const m of metrics) {
    validateKey('Metric', m.key);
    if (m.timestamp !== undefined && Number(m.timestamp) < 0) throw invalidParam(`Got invalid timestamp ${m.timestamp} for metric '${m.key}'. Timestamp must be a nonnegative long (64-bit integer)`);
  }
  const paramValues = new Map<string, string>();
  for (const p of params) {
    validateKey('Param', p.key);
    if (paramValues.has(p.key)) throw invalidParam(`Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`);
    paramValues.set(p.key, truncate(p.value ?? '', LIMITS.paramValueLength));
  }
  // Later tags win within one request, as if they had been set one after the other. Keys are written
  // in sorted order so concurrent batches lock rows in the same order and cannot deadlock.
  const tagValues = new Map<string, string>();
  for (const t of tags) {
    validateKey('Tag', t.key);
    tagValues.set(t.key, truncate(t.value ?? '', LIMITS.runTagValueLength));
  }

  // Metrics alone (log-metric, a training loop's log-batch: the hot path) are one statement that also
  // checks the run, so Postgres sees one round trip instead of BEGIN, SELECT, INSERT, COMMIT.
  if (metrics.length && !paramValues.size && !tagValues.size) {
    await withReplayFallback((replay) => logMetricsOnly(deps.db, runId, metrics, replay));
  } else {
    await withReplayFallback((replay) =>
      deps.db.transaction(async (tx) => {
        await activeRun(tx, runId);
        if (paramValues.size) await insertParams(tx, runId, paramValues, replay, batch.singleParam === true);
        if (tagValues.size) await upsertTags(tx, runId, tagValues);
        if (metrics.length) await tx.execute(sql`with ${metricWrites(runId, metrics, replay)} select 1`);
      }),
    );
  }
  if (metrics.length) deps.telemetry?.metricPointsLogged(metrics.length);
}

/**
 * New points and params are written with a plain INSERT, which Postgres does at about 1.6× the rows
 * per second of INSERT … ON CONFLICT (no speculative insertion). A replayed point or an existing
 * param key (a client's retry, a re-logged param) makes it fail on the primary key; then the whole
 * batch runs again in replay mode, with ON CONFLICT, so replays stay no-ops and changed params are
 * refused.
 */
async function withReplayFallback(write: (replay: boolean) => Promise<void>): Promise<void> {
  try {
    await write(false);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await write(true);
  }
}

function isDuplicateKey(err: unknown): boolean {
  for (let e = err as { code?: unknown; table?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '23505' && (e.table === 'metrics' || e.table === 'params')) return true;
  }
  return false;
}

async function logMetricsOnly(db: Orm, runId: string, metrics: MetricInput[], replay: boolean): Promise<void> {
  // The points are written only when the run is active (the gate in metricWrites); the run's stage
  // comes back so a missing or deleted run gets activeRun's errors, with nothing written.
  const hasLinks = metrics.some((m) => m.model_id || m.dataset_name || m.dataset_digest);
  // Prepared: the text depends only on these two switches; the points travel as array parameters.
  const found = await preparedRows<{ lifecycle_stage: string }>(
    db,
    `cairn_log_metrics${hasLinks ? '_links' : ''}${replay ? '_replay' : ''}`,
    sql`with run as (select lifecycle_stage from runs where run_id = ${runId}),
        ${metricWrites(runId, metrics, replay, sql`(select lifecycle_stage from run) = 'active'`)}
        select lifecycle_stage from run`,
  );
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
  if (found[0].lifecycle_stage !== 'active') {
    throw invalidParam(`The run ${runId} must be in the 'active' state. Current state is ${found[0].lifecycle_stage}.`);
  }
}

function checkBatchLimits(nMetrics: number, nParams: number, nTags: number): void {
  const over = (what: string, n: number, max: number) =>
    invalidParam(`A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`);
  if (nMetrics > LIMITS.batchMetrics) throw over('metrics', nMetrics, LIMITS.batchMetrics);
  if (nParams > LIMITS.batchParams) throw over('params', nParams, LIMITS.batchParams);
  if (nTags > LIMITS.batchTags) throw over('tags', nTags, LIMITS.batchTags);
  const total = nMetrics + nParams + nTags;
  if (total > LIMITS.batchTotal) {
    throw invalidParam(`A batch logging request can contain at most ${LIMITS.batchTotal} metrics, params, and tags in total. Got ${total} in total.`);
  }
}

// Params are immutable: re-logging the same value is a no-op, a different value is refused. New keys
// (the usual case) go in with a plain INSERT; any existing key fails it on the primary key, and the
// batch runs again in replay mode, where DO UPDATE (to the stored value, so nothing changes) rather
// than DO NOTHING makes Postgres lock and return the row a concurrent request may just have
// committed: exactly one of two racing values wins.
async function insertParams(tx: Orm, runId: string, values: Map<string, string>, replay: boolean, single: boolean): Promise<void> {
  if (!replay) {
    await tx.execute(sql`insert into params (run_id, key, value)
      select ${runId}, key, value from ${keyValueRows(values)}
      order by key`);
    return;
  }
  const conflicts = await rows<{ key: string; old_value: string; new_value: string }>(
    tx,
    sql`with input as (select * from ${keyValueRows(values)}),
         upsert as (insert into params (run_id, key, value) select ${runId}, key, value from input order by key
                    on conflict (run_id, key) do update set value = params.value returning key, value)
         select i.key, u.value as old_value, i.value as new_value from input i join upsert u on u.key = i.key where u.value <> i.value`,
  );
  if (single && conflicts.length === 1) {
    // log-parameter: MLflow's single-param wording (a batch, even of one, gets the list).
    const [c] = conflicts;
    throw invalidParam(
      `Changing param values is not allowed. Param with key='${c.key}' was already logged with value='${c.old_value}' for run ID='${runId}'. Attempted logging new value '${c.new_value}'.`,
    );
  }
  if (conflicts.length) {
    const listed = conflicts.map((c) => `{'key': '${c.key}', 'old_value': '${c.old_value}', 'new_value': '${c.new_value}'}`).join(', ');
    throw invalidParam(
      `Changing param values is not allowed. Params were already logged='[${listed}]' for run ID='${runId}'.`,
    );
  }
}

/** `values` as the (key, value) rows of a FROM item, keys sorted: one lock order for every writer. */
function keyValueRows(values: Map<string, string>): SQL {
  const keys = [...values.keys()].sort();
  return sql`unnest(${textArray(keys)}::text[], ${textArray(keys.map((k) => values.get(k)!))}::text[]) as t(key, value)`;
}

async function upsertTags(tx: Orm, runId: string, values: Map<string, string>): Promise<void> {
  // The run row first (as runs/update does), then tag rows in key order: one lock order everywhere.
  const runName = values.get(RUN_NAME_TAG);
  if (runName !== undefined) await tx.execute(sql`update runs set name = ${runName} where run_id = ${runId}`);
  await tx.execute(sql`
    insert into run_tags (run_id, key, value)
    select ${runId}, key, value from ${keyValueRows(values)}
    order by key
    on conflict (run_id, key) do update set value = excluded.value`);
}

// History, block summaries and latest value as the CTEs `input`, `ins`, `blocks`, `range` and
// `latest` of one statement: the
// history insert ignores replayed points (in replay mode), the latest row moves only forward in
// (step, timestamp, value) order, and its min/max widen to the batch's (a replay changes neither).
// `gate`, when given, must hold for anything to be written. A new latest row starts blocks_ready:
// its history's blocks are complete from the first point.
const newer = sql.raw('(excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)');

/**
 * The stored min or max combined with the batch's, NaN left out unless both are NaN. Postgres ranks
 * NaN above every number, so least() already skips it; greatest() needs the NaN cases spelled out.
 * A null (a row from before the column, not yet backfilled) takes the batch's.
 */
function rangeEnd(end: 'min' | 'max'): SQL {
  const old = sql.raw(`latest_metrics.${end}_value`);
  const add = sql.raw(`excluded.${end}_value`);
  if (end === 'min') return sql`coalesce(least(${old}, ${add}), ${add})`;
  return sql`case when ${old} is null or ${old} = 'NaN'::float8 then ${add} when ${add} = 'NaN'::float8 then ${old} else greatest(${old}, ${add}) end`;
}

function metricWrites(runId: string, metrics: MetricInput[], replay: boolean, gate?: SQL): SQL {
  const hasLinks = metrics.some((m) => m.model_id || m.dataset_name || m.dataset_digest);
  const links = hasLinks
    ? sql`, ${nullableTextArray(metrics.map((m) => m.model_id))}::text[], ${nullableTextArray(metrics.map((m) => m.dataset_name))}::text[], ${nullableTextArray(metrics.map((m) => m.dataset_digest))}::text[]`
    : sql``;
  const linkColumns = hasLinks ? sql`, model_id, dataset_name, dataset_digest` : sql``;
  // log_model re-logs a run's existing points with the new model's id: that links the point to the
  // model (a point already linked keeps its model, as the client only re-logs unlinked ones). DO
  // UPDATE may touch a row once per statement, hence the distinct.
  const onConflict = hasLinks
    ? sql`on conflict (run_id, key, step, timestamp, value) do update
            set model_id = excluded.model_id, dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest
            where metrics.model_id is null and excluded.model_id is not null`
    : replay
      ? sql`on conflict do nothing`
      : sql``;
  return sql`
    input as (
      select * from unnest(${textArray(metrics.map((m) => m.key))}::text[],
                           ${numberArray(metrics.map((m) => m.step ?? 0))}::bigint[],
                           ${numberArray(metrics.map((m) => m.timestamp ?? 0))}::bigint[],
                           ${numberArray(metrics.map((m) => m.value))}::float8[]${links})
        as t(key, step, timestamp, value${linkColumns})${gate ? sql` where ${gate}` : sql``}),
    ins as (
      insert into metrics (run_id, key, step, timestamp, value${linkColumns})
      select ${hasLinks ? sql`distinct on (key, step, timestamp, value) ` : sql``}${runId}, key, step, timestamp, value${linkColumns} from input
      order by key, step, timestamp, value
      ${onConflict}
      returning key, step, timestamp, value, (xmax = 0) as fresh),
    ${blockWrites(runId)},
    range as (
      select key, coalesce(min(value) filter (where value <> 'NaN'::float8), 'NaN'::float8) as lo,
                  coalesce(max(value) filter (where value <> 'NaN'::float8), 'NaN'::float8) as hi
      from input group by key),
    latest as (
      insert into latest_metrics (run_id, key, step, timestamp, value, min_value, max_value, blocks_ready)
      select distinct on (i.key) ${runId}, i.key, i.step, i.timestamp, i.value, g.lo, g.hi, true from input i join range g on g.key = i.key
      order by i.key, i.step desc, i.timestamp desc, i.value desc
      on conflict (run_id, key) do update set
        step = case when ${newer} then excluded.step else latest_metrics.step end,
        timestamp = case when ${newer} then excluded.timestamp else latest_metrics.timestamp end,
        value = case when ${newer} then excluded.value else latest_metrics.value end,
        min_value = ${rangeEnd('min')},
        max_value = ${rangeEnd('max')})`;
}

export async function deleteTag(deps: Deps, runId: string, key: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await activeRun(tx, runId);
    const deleted = await rows(tx, sql`delete from run_tags where run_id = ${runId} and key = ${key} returning key`);
    if (!deleted.length) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
  });
}
