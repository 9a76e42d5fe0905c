import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { textArray } from '../lib/pg-array.js';
import { activeExperimentRoot } from './experiments.js';
import { insertRun, runTagValues } from './runs.js';

// What `cairn import` writes that no API call can: a run under its original id, and the original
// creation and update times of experiments, registered models and logged models. Everything else an
// import writes goes through the same domain functions as the API.

type KV = { key: string; value?: string };

/** Where a run id already lives in Cairn, if anywhere. */
export async function findRun(deps: Deps, runId: string): Promise<{ experiment_id: string; lifecycle_stage: string; artifact_uri: string } | undefined> {
  const [found] = await rows<{ experiment_id: number | string; lifecycle_stage: string; artifact_uri: string }>(
    deps.db,
    sql`select experiment_id, lifecycle_stage, artifact_uri from runs where run_id = ${runId}`,
  );
  return found && { ...found, experiment_id: String(found.experiment_id) };
}

/** A new RUNNING run with the source's id, name, user, start time and tags; returns its artifact URI. */
export async function createRunWithId(
  deps: Deps,
  run: { runId: string; experimentId: string; name: string; userId: string; startTime: number; tags: KV[] | undefined },
): Promise<string> {
  await deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, Number(run.experimentId), run.experimentId);
    await insertRun(tx, root, { runIds: [run.runId], experimentId: Number(run.experimentId), name: run.name, userId: run.userId, startTime: run.startTime, tags: runTagValues(run.tags) });
  });
  return (await findRun(deps, run.runId))!.artifact_uri;
}

export async function setExperimentTimes(deps: Deps, experimentId: string, creation: number, lastUpdate: number): Promise<void> {
  await deps.db.execute(sql`update experiments set creation_time = ${creation}, last_update_time = ${lastUpdate} where experiment_id = ${Number(experimentId)}`);
}

export async function setRegisteredModelTimes(deps: Deps, name: string, creation: number, lastUpdate: number): Promise<void> {
  await deps.registryDb.execute(sql`update registered_models set creation_time = ${creation}, last_updated_time = ${lastUpdate} where name = ${name}`);
}

/** The version numbers a registered model (or prompt) has, deleted ones included (numbers are never reused). */
export async function modelVersionNumbers(deps: Deps, name: string): Promise<Set<number>> {
  const present = await rows<{ version: number | string }>(
    deps.registryDb,
    sql`select v.version from model_versions v join registered_models m on m.id = v.registered_model_id where m.name = ${name}`,
  );
  return new Set(present.map((p) => Number(p.version)));
}

export interface ImportedLoggedModel {
  model_id: string;
  experiment_id: string;
  name: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  status: string;
  lifecycle_stage: string;
  model_type?: string;
  source_run_id?: string;
  status_message?: string;
  params?: KV[];
  tags?: KV[];
}

/**
 * A logged model under its original id (a models:/m-… source keeps resolving) with its times and
 * status; a model already there keeps its row and gets the source's tags. Returns its artifact location.
 */
export async function upsertLoggedModel(deps: Deps, m: ImportedLoggedModel): Promise<string> {
  return deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, Number(m.experiment_id), m.experiment_id);
    await tx.execute(sql`
      insert into logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms,
                                 status, lifecycle_stage, model_type, source_run_id, status_message)
      values (${m.model_id}, ${Number(m.experiment_id)}, ${m.name}, ${`${root}/models/${m.model_id}/artifacts`}, ${m.creation_timestamp_ms},
              ${m.last_updated_timestamp_ms}, ${m.status}, ${m.lifecycle_stage}, ${m.model_type ?? null}, ${m.source_run_id ?? null}, ${m.status_message ?? null})
      on conflict (model_id) do nothing`);
    for (const [table, list, conflict] of [
      ['logged_model_params', m.params ?? [], sql`do nothing`],
      ['logged_model_tags', m.tags ?? [], sql`do update set value = excluded.value`],
    ] as const) {
      if (!list.length) continue;
      await tx.execute(sql`
        insert into ${sql.raw(table)} (model_id, key, value)
        select ${m.model_id}, k, v from unnest(${textArray(list.map((t) => t.key))}::text[], ${textArray(list.map((t) => t.value ?? ''))}::text[]) as t(k, v)
        on conflict (model_id, key) ${conflict}`);
    }
    const [row] = await rows<{ artifact_location: string }>(tx, sql`select artifact_location from logged_models where model_id = ${m.model_id}`);
    return row.artifact_location;
  });
}

/** The last step of a logged model's import: its update time as the source has it. */
export async function setLoggedModelUpdated(deps: Deps, modelId: string, lastUpdated: number): Promise<void> {
  await deps.db.execute(sql`update logged_models set last_updated_timestamp_ms = ${lastUpdated} where model_id = ${modelId}`);
}
