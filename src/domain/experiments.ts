import { sql } from 'drizzle-orm';
import { isUniqueViolation } from '../db/faults.js';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { alreadyExists, invalidParam, MlflowError, notFound } from '../errors.js';
import { decodeOffsetToken, encodeOffsetToken } from '../lib/page-token.js';
import type { ViewType } from '../lib/zod-wire.js';
import { validateUserArtifactLocation } from './artifacts-location.js';
import { experimentIdOf } from './ids.js';
import { experimentSearchQuery } from './search/experiments-sql.js';
import { LIMITS, validateArtifactLocation, validateExperimentName, validateKey, validateMaxResults } from './validation.js';

export interface ExperimentWire {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags?: { key: string; value: string }[];
  workspace?: string;
}

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: { key: string; value: string }[] | null;
}

/** `<root>/<id>`, whether the root is a bare scheme (`mlflow-artifacts:`) or a folder or bucket URI. */
export function artifactLocationFor(root: string, experimentId: number | string): string {
  return root.endsWith(':') ? `${root}/${experimentId}` : `${root.replace(/\/+$/, '')}/${experimentId}`;
}

export async function ensureDefaultExperiment(deps: Deps): Promise<void> {
  const now = deps.now();
  await deps.db.execute(sql`
    insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
    values (0, 'Default', ${artifactLocationFor(deps.config.defaultArtifactRoot, 0)}, 'active', ${now}, ${now})
    on conflict do nothing`);
}

export async function createExperiment(
  deps: Deps,
  input: { name: string; artifact_location?: string; tags?: { key: string; value?: string }[] },
): Promise<string> {
  validateExperimentName(input.name);
  if (input.artifact_location) {
    validateArtifactLocation(input.artifact_location);
    validateUserArtifactLocation(input.artifact_location);
  }
  const tags = (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' }));
  tags.forEach((t) => validateExperimentTag(t.key, t.value));
  const now = deps.now();
  const root = deps.config.defaultArtifactRoot;
  return deps.db.transaction(async (tx) => {
    const inserted = await rows<{ experiment_id: number }>(
      tx,
      sql`with id as (select nextval(pg_get_serial_sequence('experiments', 'experiment_id')) as v)
          insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
          select v, ${input.name},
                 coalesce(${input.artifact_location ?? null}::text, ${artifactLocationFor(root, '')} || v::text),
                 'active', ${now}, ${now}
          from id
          on conflict (name) do nothing
          returning experiment_id`,
    );
    if (inserted.length === 0) throw alreadyExists(`Experiment(name=${input.name}) already exists.`);
    const id = inserted[0].experiment_id;
    for (const t of tags) {
      await tx.execute(sql`insert into experiment_tags (experiment_id, key, value) values (${id}, ${t.key}, ${t.value})
                           on conflict (experiment_id, key) do update set value = excluded.value`);
    }
    return String(id);
  });
}

function validateExperimentTag(key: string, value: string): void {
  validateKey('Tag', key);
  if (value.length > LIMITS.experimentTagValueLength) {
    throw invalidParam(`Tag value '${value.slice(0, 50)}...' had length ${value.length}, which exceeded length limit of ${LIMITS.experimentTagValueLength}`);
  }
}

const SELECT_EXPERIMENT = sql`
  select e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time,
         (select json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key)
            from experiment_tags t where t.experiment_id = e.experiment_id) as tags
  from experiments e`;

function toWire(r: ExperimentRow): ExperimentWire {
  const out: ExperimentWire = {
    experiment_id: String(r.experiment_id),
    name: r.name,
    artifact_location: r.artifact_location,
    lifecycle_stage: r.lifecycle_stage,
    last_update_time: Number(r.last_update_time),
    creation_time: Number(r.creation_time),
  };
  if (r.tags?.length) out.tags = r.tags;
  // MLflow 3.18 names the workspace of every experiment; Cairn has only MLflow's default one.
  out.workspace = 'default';
  return out;
}

export async function getExperiment(deps: Deps, experimentId: string): Promise<ExperimentWire> {
  const id = experimentIdOf(experimentId);
  const found = await rows<ExperimentRow>(deps.db, sql`${SELECT_EXPERIMENT} where e.experiment_id = ${id}`);
  if (!found.length) throw notFound(`No Experiment with id=${experimentId} exists`);
  return toWire(found[0]);
}

export async function getExperimentByName(deps: Deps, name: string): Promise<ExperimentWire> {
  const found = await rows<ExperimentRow>(deps.db, sql`${SELECT_EXPERIMENT} where e.name = ${name}`);
  if (!found.length) throw notFound(`Could not find experiment with name '${name}'`);
  return toWire(found[0]);
}

/**
 * The artifact location (no trailing slash) of an experiment that new runs and models may join:
 * missing or deleted ones are refused as MLflow does, or with `refused` where a caller words it
 * its own way. `shownId` is the id as the client sent it, for the message.
 */
export async function activeExperimentRoot(
  tx: Deps['db'],
  experimentId: number,
  shownId: string | undefined,
  refused?: () => MlflowError,
): Promise<string> {
  const exp = await rows<ExperimentStage>(tx, sql`select lifecycle_stage, artifact_location from experiments where experiment_id = ${experimentId}`);
  return activeRootOf(exp[0], experimentId, shownId, refused);
}

export interface ExperimentStage {
  lifecycle_stage: string;
  artifact_location: string;
}

/** activeExperimentRoot's check, for a statement that read the experiment's row (or found none) along with more. */
export function activeRootOf(exp: ExperimentStage | undefined, experimentId: number, shownId: string | undefined, refused?: () => MlflowError): string {
  if (refused && (!exp || exp.lifecycle_stage !== 'active')) throw refused();
  if (!exp) throw notFound(`No Experiment with id=${shownId} exists`);
  if (exp.lifecycle_stage !== 'active') {
    throw invalidParam(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
  }
  return exp.artifact_location.replace(/\/+$/, '');
}

/** Locks the experiment row and returns its stage; writes to deleted experiments are refused. */
async function activeExperiment(deps: Deps, tx: Deps['db'], experimentId: string): Promise<number> {
  const id = experimentIdOf(experimentId);
  const found = await rows<{ lifecycle_stage: string }>(tx, sql`select lifecycle_stage from experiments where experiment_id = ${id} for update`);
  if (!found.length) throw notFound(`No Experiment with id=${experimentId} exists`);
  if (found[0].lifecycle_stage !== 'active') {
    throw invalidParam(`The experiment ${experimentId} must be in the 'active' state. Current state is ${found[0].lifecycle_stage}.`);
  }
  return id;
}

/** The codes are mlflow server 3.18's (SqlAlchemyStore.rename_experiment and its session's error handling). */
// mlflow server 3.18 answers a taken name with BAD_REQUEST (its SQL store's unique-constraint failure).
const nameTaken = (name: string) => new MlflowError('BAD_REQUEST', `Experiment(name=${name}) already exists.`);

export async function renameExperiment(deps: Deps, experimentId: string, newName: string): Promise<void> {
  validateExperimentName(newName);
  try {
    await deps.db.transaction(async (tx) => {
      const id = experimentIdOf(experimentId);
      const found = await rows<{ lifecycle_stage: string }>(tx, sql`select lifecycle_stage from experiments where experiment_id = ${id} for update`);
      if (!found.length) throw notFound(`No Experiment with id=${experimentId} exists`);
      if (found[0].lifecycle_stage !== 'active') throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
      const clash = await rows(tx, sql`select 1 from experiments where name = ${newName} and experiment_id <> ${id}`);
      if (clash.length) throw nameTaken(newName);
      await tx.execute(sql`update experiments set name = ${newName}, last_update_time = ${deps.now()} where experiment_id = ${id}`);
    });
  } catch (err) {
    // Two renames to one new name at once both pass the check above; the loser hits the unique index
    // and gets the same answer as a sequential rename (never a 500).
    if (isUniqueViolation(err)) throw nameTaken(newName);
    throw err;
  }
}

export async function setExperimentLifecycle(deps: Deps, experimentId: string, stage: 'active' | 'deleted'): Promise<void> {
  const id = experimentIdOf(experimentId);
  const from = stage === 'deleted' ? 'active' : 'deleted';
  const now = deps.now();
  await deps.db.transaction(async (tx) => {
    const found = await rows<{ lifecycle_stage: string }>(tx, sql`select lifecycle_stage from experiments where experiment_id = ${id} for update`);
    if (!found.length) throw notFound(`No Experiment with id=${experimentId} exists`);
    if (id === 0 && stage === 'deleted') throw invalidParam('Cannot delete the default experiment (id 0).');
    if (found[0].lifecycle_stage !== from) {
      throw invalidParam(`Cannot ${stage === 'deleted' ? 'delete' : 'restore'} experiment ${experimentId}: it is ${found[0].lifecycle_stage}.`);
    }
    await tx.execute(sql`update experiments set lifecycle_stage = ${stage}, last_update_time = ${now} where experiment_id = ${id}`);
    // Runs follow their experiment, as in MLflow.
    await tx.execute(sql`update runs set lifecycle_stage = ${stage}, deleted_time = ${stage === 'deleted' ? now : null}
                         where experiment_id = ${id} and lifecycle_stage = ${from}`);
  });
}

export async function setExperimentTag(deps: Deps, experimentId: string, key: string, value: string): Promise<void> {
  validateExperimentTag(key, value);
  await deps.db.transaction(async (tx) => {
    const id = await activeExperiment(deps, tx, experimentId);
    await tx.execute(sql`insert into experiment_tags (experiment_id, key, value) values (${id}, ${key}, ${value})
                         on conflict (experiment_id, key) do update set value = excluded.value`);
  });
}

export async function deleteExperimentTag(deps: Deps, experimentId: string, key: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const id = await activeExperiment(deps, tx, experimentId);
    const deleted = await rows(tx, sql`delete from experiment_tags where experiment_id = ${id} and key = ${key} returning key`);
    if (!deleted.length) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
  });
}

export async function searchExperiments(
  deps: Deps,
  input: { max_results?: number; page_token?: string; filter?: string; order_by?: string[]; view_type?: ViewType },
): Promise<{ experiments: ExperimentWire[]; next_page_token?: string }> {
  const limit = validateMaxResults(input.max_results, LIMITS.searchExperimentsMaxResults, 1000);
  const offset = decodeOffsetToken(input.page_token);
  const idQuery = experimentSearchQuery({
    filter: input.filter,
    viewType: input.view_type ?? 'ACTIVE_ONLY',
    orderBy: input.order_by,
    offset,
    limit: limit + 1,
  });
  const found = await rows<ExperimentRow>(
    deps.db,
    // Tags read once for the page, grouped: SELECT_EXPERIMENT's per-row subquery is a scan of the
    // (usually small) tags table per experiment, each of which stats the table's file.
    sql`with page as (select experiment_id::bigint as experiment_id, row_number() over () as pos from (${idQuery}) q),
             tags as (select t.experiment_id, json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key) as tags
                      from experiment_tags t join page p on p.experiment_id = t.experiment_id group by t.experiment_id)
        select e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time, tags.tags
        from page p join experiments e on e.experiment_id = p.experiment_id left join tags on tags.experiment_id = e.experiment_id
        order by p.pos`,
  );
  const more = found.length > limit;
  const experiments = found.slice(0, limit).map(toWire);
  return more ? { experiments, next_page_token: encodeOffsetToken(offset + limit) } : { experiments };
}
