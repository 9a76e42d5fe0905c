import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import { newRunId, randomRunName } from '../lib/ids.js';
import type { Int64 } from '../lib/int64.js';
import { textArray as pgText } from '../lib/pg-array.js';
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
  const tags = new Map<string, string>();
  for (const t of input.tags ?? []) {
    validateKey('Tag', t.key);
    tags.set(t.key, truncate(t.value ?? '', LIMITS.runTagValueLength));
  }
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
    const exp = await rows<{ lifecycle_stage: string; artifact_location: string }>(
      tx,
      sql`select lifecycle_stage, artifact_location from experiments where experiment_id = ${experimentId}`,
    );
    if (!exp.length) throw notFound(`No Experiment with id=${input.experiment_id} exists`);
    if (exp[0].lifecycle_stage !== 'active') {
      throw invalidParam(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp[0].lifecycle_stage}.`);
    }
    const artifactUri = `${exp[0].artifact_location.replace(/\/+$/, '')}/${runId}/artifacts`;
    await tx.execute(sql`
      insert into runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
      values (${runId}, ${experimentId}, ${name}, ${input.user_id ?? ''}, 'RUNNING', ${input.start_time ?? deps.now()}::bigint, ${artifactUri}, 'active')`);
    const keys = [...tags.keys()];
    await tx.execute(sql`
      insert into run_tags (run_id, key, value)
      select ${runId}, k, v from unnest(${pgText(keys)}::text[], ${pgText(keys.map((k) => tags.get(k)!))}::text[]) as t(k, v)`);
  });
  return runId;
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
