import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import { newRunId, randomRunName } from '../lib/ids.js';
import type { Int64 } from '../lib/int64.js';
import { textArray as pgText } from '../lib/pg-array.js';
import { activeExperimentRoot } from './experiments.js';
import { experimentIdOf, checkRunId } from './ids.js';
import { toRunInfo, type RunInfoWire, type RunRow } from './run-read.js';
import { LIMITS, truncate, validateKey } from './validation.js';

export const RUN_NAME_TAG = 'mlflow.runName';
const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Refuses writes to a missing or deleted run, as MLflow does. */
export async function activeRun(tx: Orm, runId: string): Promise<void> {
  checkRunId(runId);
  const found = await rows<{ lifecycle_stage: string }>(tx, sql`select lifecycle_stage from runs where run_id = ${runId}`);
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
  if (found[0].lifecycle_stage !== 'active') {
    throw invalidParam(`The run ${runId} must be in the 'active' state. Current state is ${found[0].lifecycle_stage}.`);
  }
}

export async function createRun(
  deps: Deps,
  input: { experiment_id?: string; user_id?: string; run_name?: string; start_time?: Int64; tags?: { key: string; value?: string }[] },
): Promise<string> {
  const experimentId = experimentIdOf(input.experiment_id ?? '0');
  const tags = runTagValues(input.tags);
  const tagName = tags.get(RUN_NAME_TAG);
  if (input.run_name && tagName !== undefined && tagName !== input.run_name) {
    throw invalidParam(
      `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.run_name}', mlflow.runName='${tagName}').`,
    );
  }
  const name = input.run_name || tagName || randomRunName();
  tags.set(RUN_NAME_TAG, name);
  const runId = newRunId();
  await deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, experimentId, input.experiment_id);
    const run = { runIds: [runId], experimentId, name, userId: input.user_id ?? '', startTime: input.start_time ?? deps.now(), tags };
    if (!(await insertRun(tx, root, run))) throw new Error(`Run id ${runId} is already taken`);
  });
  return runId;
}

/** Tags as a run stores them: keys checked, values cut to MLflow's limit, a later key wins. */
export function runTagValues(tags: { key: string; value?: string }[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    validateKey('Tag', t.key);
    out.set(t.key, truncate(t.value ?? '', LIMITS.runTagValueLength));
  }
  return out;
}

export interface NewRun {
  /** Tried in order: the run gets the first id no other run has. */
  runIds: string[];
  experimentId: number;
  name: string;
  userId: string;
  startTime: Int64 | number;
  tags: Map<string, string>;
}

/**
 * Inserts a RUNNING run and its tags in tx below the experiment's artifact root (see
 * activeExperimentRoot) and returns its id, or undefined when every id is taken. createRun offers a
 * fresh random id; W&B offers the ids it derives from its own run id.
 */
export async function insertRun(tx: Orm, artifactRoot: string, run: NewRun): Promise<string | undefined> {
  for (const runId of run.runIds) {
    const created = await rows(
      tx,
      sql`insert into runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
          values (${runId}, ${run.experimentId}, ${run.name}, ${run.userId}, 'RUNNING', ${run.startTime}::bigint, ${`${artifactRoot}/${runId}/artifacts`}, 'active')
          on conflict (run_id) do nothing returning run_id`,
    );
    if (!created.length) continue;
    const keys = [...run.tags.keys()];
    await tx.execute(sql`
      insert into run_tags (run_id, key, value)
      select ${runId}, k, v from unnest(${pgText(keys)}::text[], ${pgText(keys.map((k) => run.tags.get(k)!))}::text[]) as t(k, v)`);
    return runId;
  }
  return undefined;
}

export async function updateRun(
  deps: Deps,
  input: { run_id: string; status?: string; end_time?: Int64; run_name?: string },
): Promise<RunInfoWire> {
  if (input.status !== undefined && !RUN_STATUSES.includes(input.status as RunStatus)) {
    throw invalidParam(`Invalid value '${input.status}' for parameter 'status'. Valid values: ${RUN_STATUSES.join(', ')}`);
  }
  return deps.db.transaction(async (tx) => {
    await activeRun(tx, input.run_id);
    const updated = await rows<RunRow>(
      tx,
      sql`update runs set
            status = coalesce(${input.status ?? null}::text, status),
            end_time = coalesce(${input.end_time ?? null}::bigint, end_time),
            name = coalesce(${input.run_name || null}::text, name)
          where run_id = ${input.run_id}
          returning run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage`,
    );
    if (input.run_name) await upsertRunNameTag(tx, input.run_id, input.run_name);
    return toRunInfo(updated[0]);
  });
}

export async function upsertRunNameTag(tx: Orm, runId: string, name: string): Promise<void> {
  await tx.execute(sql`insert into run_tags (run_id, key, value) values (${runId}, ${RUN_NAME_TAG}, ${name})
                       on conflict (run_id, key) do update set value = excluded.value`);
}

export async function setRunLifecycle(deps: Deps, runId: string, stage: 'active' | 'deleted'): Promise<void> {
  checkRunId(runId);
  const updated = await rows<{ run_id: string }>(
    deps.db,
    sql`update runs set lifecycle_stage = ${stage}, deleted_time = ${stage === 'deleted' ? deps.now() : null}
        where run_id = ${runId} returning run_id`,
  );
  if (!updated.length) throw notFound(`Run with id=${runId} not found`);
}
