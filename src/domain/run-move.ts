import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, MlflowError, notFound } from '../errors.js';
import { recordActivity } from './activity.js';
import { checkRunId } from './ids.js';
import { validateWandbName } from './wandb/projects.js';

// Moving a run to another experiment (docs/teams.md#moving-runs), as W&B's "Move to project".
// Everything the run logged hangs off its run id (params, metrics, tags, W&B history and files),
// so only its experiment changes; its artifact_uri stays where the files are, and the artifact
// proxy's permission follows the run (auth/resources.ts).

type Experiment = { experiment_id: string | number; name: string; lifecycle_stage: string };
type WandbRun = { name: string; entity: string; project: string; sweep: string | null };
export type MoveResult = { experiment_id: string; entity?: string; project?: string };

async function experimentRow(tx: Orm, id: number): Promise<Experiment | undefined> {
  return (await rows<Experiment>(tx, sql`select experiment_id, name, lifecycle_stage from experiments where experiment_id = ${id}`))[0];
}

/**
 * Where a W&B run lands in the destination: the entity/project a W&B client already uses for it
 * (the run's own entity first), else the run's entity and the experiment's name, claimed for that
 * entity now (docs/teams.md#namespaces) so a later claim by another entity cannot strand the run.
 */
async function wandbTarget(tx: Orm, dest: Experiment, run: WandbRun): Promise<{ entity: string; project: string }> {
  const destId = Number(dest.experiment_id);
  const mapped = await rows<{ entity: string; name: string }>(
    tx,
    sql`select entity, name from wandb_projects where experiment_id = ${destId} order by (entity = ${run.entity}) desc, entity limit 1`,
  );
  if (mapped.length) return { entity: mapped[0].entity, project: mapped[0].name };
  try {
    validateWandbName('project', dest.name);
  } catch (err) {
    if (err instanceof MlflowError) throw invalidParam(`Experiment '${dest.name.slice(0, 130)}' has no W&B project name, so W&B run '${run.name}' cannot move into it`);
    throw err;
  }
  // The lock ensureProject claims names under, so a racing first use cannot claim it as well.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`wandb-project:${dest.name}`}))`);
  await tx.execute(sql`insert into wandb_projects (entity, name, experiment_id) values (${run.entity}, ${dest.name}, ${destId}) on conflict do nothing`);
  const claimed = await rows(tx, sql`select 1 from wandb_projects where entity = ${run.entity} and name = ${dest.name} and experiment_id = ${destId}`);
  if (!claimed.length) throw invalidParam(`W&B project '${run.entity}/${dest.name}' is another experiment, so W&B run '${run.name}' cannot move into experiment ${destId}`);
  return { entity: run.entity, project: dest.name };
}

/** Moves a W&B run's identity to the destination's project (refusing a clash of W&B run ids). */
async function moveWandbRun(tx: Orm, runId: string, dest: Experiment, wandb: WandbRun): Promise<{ entity: string; project: string }> {
  const destId = Number(dest.experiment_id);
  // A sweep lives in its project and tracks its trials there: a trial that left would look lost.
  if (wandb.sweep) throw invalidParam(`Run '${runId}' is a trial of sweep '${wandb.sweep}': sweep runs stay in their sweep's project`);
  const clash = await rows(tx, sql`select 1 from wandb_runs where experiment_id = ${destId} and name = ${wandb.name}`);
  if (clash.length) throw invalidParam(`Experiment ${destId} already has a W&B run with id '${wandb.name}'`);
  const to = await wandbTarget(tx, dest, wandb);
  await tx.execute(sql`update wandb_runs set experiment_id = ${destId}, entity = ${to.entity}, project = ${to.project} where run_id = ${runId}`);
  // The tags W&B runs carry for MLflow readers say where the run now is.
  await tx.execute(sql`update run_tags set value = ${to.entity} where run_id = ${runId} and key = 'wandb.entity'`);
  await tx.execute(sql`update run_tags set value = ${to.project} where run_id = ${runId} and key = 'wandb.project'`);
  return to;
}

/**
 * Moves run `runId` into experiment `destId`; `actor` is recorded in the run's activity. Moving a
 * run where it already is changes nothing and answers the same (a retried move succeeds).
 * `checkedSource` is the experiment the caller's rights were checked on: if the run left it
 * meanwhile, nothing moves.
 */
export async function moveRun(deps: Deps, runId: string, destId: number, actor: string | undefined, checkedSource?: number): Promise<MoveResult> {
  checkRunId(runId);
  return deps.db.transaction(async (tx) => {
    const run = (await rows<{ experiment_id: string | number; lifecycle_stage: string }>(
      tx,
      sql`select experiment_id, lifecycle_stage from runs where run_id = ${runId} for update`,
    ))[0];
    if (!run) throw notFound(`Run with id=${runId} not found`);
    const dest = await experimentRow(tx, destId);
    if (!dest) throw notFound(`No Experiment with id=${destId} exists`);
    const wandb = (await rows<WandbRun>(tx, sql`select name, entity, project, sweep from wandb_runs where run_id = ${runId}`))[0];
    const out: MoveResult = { experiment_id: String(destId), ...(wandb && { entity: wandb.entity, project: wandb.project }) };
    if (Number(run.experiment_id) === destId) return out;
    if (checkedSource !== undefined && Number(run.experiment_id) !== checkedSource) {
      throw new MlflowError('RESOURCE_CONFLICT', `Run '${runId}' moved to another experiment meanwhile: try again`);
    }
    if (run.lifecycle_stage !== 'active') throw invalidParam(`Run '${runId}' is deleted: restore it before moving it`);
    if (dest.lifecycle_stage !== 'active') throw invalidParam(`Experiment ${destId} is deleted: a run cannot move into it`);
    const source = await experimentRow(tx, Number(run.experiment_id));
    if (wandb) Object.assign(out, await moveWandbRun(tx, runId, dest, wandb));
    await tx.execute(sql`update runs set experiment_id = ${destId} where run_id = ${runId}`);
    // The run's record goes with it: the destination's readers now see its whole story.
    await tx.execute(sql`update run_activity set experiment_id = ${destId} where run_id = ${runId}`);
    await recordActivity(tx, runId, ['moved'], actor, deps.now(), source?.name ?? String(run.experiment_id));
    return out;
  });
}
