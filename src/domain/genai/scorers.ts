import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { experimentIdOf } from '../ids.js';
import { checkScorerPayload } from './scorer-payload.js';

// Registered scorers (mlflow.genai.scorers: `scorer.register`, `list_scorers`, `get_scorer`,
// `delete_scorer`). A scorer is a name in an experiment with numbered versions, each a serialized
// scorer the client wrote; Cairn stores and returns it and never runs it.

/** The Scorer message as MLflow's server writes it (its experiment_id is an int32 there). */
export interface ScorerWire {
  experiment_id: number;
  scorer_name: string;
  scorer_version: number;
  serialized_scorer: string;
  creation_time: number;
  scorer_id: string;
}

interface VersionRow {
  experiment_id: string | number;
  scorer_name: string;
  scorer_id: string;
  scorer_version: number;
  serialized_scorer: string;
  creation_time: string | number;
}

const toWire = (r: VersionRow): ScorerWire => ({
  experiment_id: Number(r.experiment_id),
  scorer_name: r.scorer_name,
  scorer_version: Number(r.scorer_version),
  serialized_scorer: r.serialized_scorer,
  creation_time: Number(r.creation_time),
  scorer_id: r.scorer_id,
});

const SELECT = sql`select s.experiment_id, s.scorer_name, s.scorer_id, v.scorer_version, v.serialized_scorer, v.creation_time
  from scorers s join scorer_versions v on v.scorer_id = s.scorer_id`;

const scorerMissing = (name: string, experimentId: string, version?: number) =>
  notFound(
    version === undefined
      ? `Scorer with name '${name.slice(0, 250)}' not found for experiment ${experimentId}.`
      : `Scorer with name '${name.slice(0, 250)}' and version ${version} not found for experiment ${experimentId}.`,
  );

/** An existing, active experiment (MLflow's get_experiment + _check_experiment_is_active). */
async function activeExperiment(db: Orm, experimentId: string, lock = false): Promise<number> {
  const id = experimentIdOf(experimentId);
  const found = await rows<{ lifecycle_stage: string }>(
    db,
    sql`select lifecycle_stage from experiments where experiment_id = ${id}${lock ? sql` for update` : sql``}`,
  );
  if (!found.length) throw notFound(`No Experiment with id=${experimentId} exists`);
  if (found[0].lifecycle_stage !== 'active') {
    throw invalidParam(`The experiment ${experimentId} must be in the 'active' state. Current state is ${found[0].lifecycle_stage}.`);
  }
  return id;
}

function checkName(name: string): void {
  if (!name.trim()) throw invalidParam('Scorer name cannot be empty or contain only whitespace.');
}

export interface RegisteredScorer {
  version: number;
  scorer_id: string;
  experiment_id: string;
  name: string;
  serialized_scorer: string;
  creation_time: number;
}

export async function registerScorer(deps: Deps, experimentId: string, name: string, serialized: string): Promise<RegisteredScorer> {
  checkScorerPayload(serialized);
  checkName(name);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    // The experiment row lock serialises registrations in it, so two never take the same version.
    const expId = await activeExperiment(tx, experimentId, true);
    let found = await rows<{ scorer_id: string }>(tx, sql`select scorer_id from scorers where experiment_id = ${expId} and scorer_name = ${name}`);
    if (!found.length) {
      found = [{ scorer_id: randomUUID() }];
      await tx.execute(sql`insert into scorers (scorer_id, experiment_id, scorer_name) values (${found[0].scorer_id}, ${expId}, ${name})`);
    }
    const scorerId = found[0].scorer_id;
    const max = await rows<{ v: number | null }>(tx, sql`select max(scorer_version) as v from scorer_versions where scorer_id = ${scorerId}`);
    const version = max[0].v === null ? 1 : Number(max[0].v) + 1;
    await tx.execute(sql`insert into scorer_versions (scorer_id, scorer_version, serialized_scorer, creation_time)
      values (${scorerId}, ${version}, ${serialized}, ${now})`);
    return { version, scorer_id: scorerId, experiment_id: String(expId), name, serialized_scorer: serialized, creation_time: now };
  });
}

/** The latest version of every scorer in the experiments, ordered by experiment then name. */
export async function listScorers(deps: Deps, experimentIds: number[]): Promise<ScorerWire[]> {
  if (!experimentIds.length) return [];
  const ids = sql.join(experimentIds.map((e) => sql`${e}`), sql`, `);
  const found = await rows<VersionRow>(
    deps.db,
    sql`${SELECT} where s.experiment_id in (${ids})
      and v.scorer_version = (select max(scorer_version) from scorer_versions m where m.scorer_id = s.scorer_id)
      order by s.experiment_id, s.scorer_name`,
  );
  return found.map(toWire);
}

/** ListScorers: one experiment (which must be active), several (active ones only), or every active one. */
export async function listScorersCall(deps: Deps, input: { experiment_id?: string; experiment_ids?: string[] }): Promise<ScorerWire[]> {
  if (input.experiment_id && input.experiment_ids !== undefined) {
    throw invalidParam(
      "Cannot specify both 'experiment_id' and 'experiment_ids'. Use 'experiment_ids' to scope the query to multiple experiments, " +
        "or 'experiment_id' to scope it to a single experiment.",
    );
  }
  if (input.experiment_id) return listScorers(deps, [await activeExperiment(deps.db, input.experiment_id)]);
  const named = input.experiment_ids?.map(experimentIdOf);
  if (named && !named.length) return [];
  const active = await rows<{ experiment_id: string | number }>(
    deps.db,
    sql`select experiment_id from experiments where lifecycle_stage = 'active'
      ${named ? sql`and experiment_id in (${sql.join(named.map((e) => sql`${e}`), sql`, `)})` : sql``}`,
  );
  return listScorers(deps, active.map((r) => Number(r.experiment_id)));
}

export async function listScorerVersions(deps: Deps, experimentId: string, name: string): Promise<ScorerWire[]> {
  const expId = await activeExperiment(deps.db, experimentId);
  const found = await rows<VersionRow>(
    deps.db,
    sql`${SELECT} where s.experiment_id = ${expId} and s.scorer_name = ${name} order by v.scorer_version`,
  );
  if (!found.length) throw scorerMissing(name, experimentId);
  return found.map(toWire);
}

export async function getScorer(deps: Deps, experimentId: string, name: string, version?: number): Promise<ScorerWire> {
  const expId = await activeExperiment(deps.db, experimentId);
  const found = await rows<VersionRow>(
    deps.db,
    sql`${SELECT} where s.experiment_id = ${expId} and s.scorer_name = ${name}
      ${version === undefined ? sql`` : sql`and v.scorer_version = ${version}`}
      order by v.scorer_version desc limit 1`,
  );
  if (!found.length) throw scorerMissing(name, experimentId, version);
  return toWire(found[0]);
}

/** Deletes one version, or with no version the scorer and all its versions. */
export async function deleteScorer(deps: Deps, experimentId: string, name: string, version?: number): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const expId = await activeExperiment(tx, experimentId, true);
    const found = await rows<{ scorer_id: string }>(tx, sql`select scorer_id from scorers where experiment_id = ${expId} and scorer_name = ${name}`);
    if (!found.length) throw scorerMissing(name, experimentId);
    const scorerId = found[0].scorer_id;
    const deleted = await rows(
      tx,
      sql`delete from scorer_versions where scorer_id = ${scorerId} ${version === undefined ? sql`` : sql`and scorer_version = ${version}`} returning 1`,
    );
    if (!deleted.length) throw scorerMissing(name, experimentId, version);
    // As MLflow: deleting one version keeps the scorer (a later register continues its numbering).
    if (version === undefined) await tx.execute(sql`delete from scorers where scorer_id = ${scorerId}`);
  });
}
