import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { newRunId } from '../../lib/ids.js';
import { activeExperimentRoot } from '../experiments.js';
import { insertRun, runTagValues, updateRun } from '../runs.js';
import type { WandbUser } from './api-keys.js';
import { DEFAULT_PROJECT, ensureProject, findProject, validateWandbName } from './projects.js';
import { newWandbRunId } from './upsert.js';
import { parseSweepYaml, validateSweepConfig, type SweepConfig } from './sweeps-config.js';
import { attachPriorRuns, findPriorRuns, priorRunNames } from './sweeps-prior.js';

// Sweeps in Postgres: creation (with the MLflow parent run), state changes, agents, and the
// lookups the GraphQL resolvers need. The search itself is in sweeps-agent.ts.

export type SweepState = 'PENDING' | 'RUNNING' | 'PAUSED' | 'FINISHED' | 'CANCELED';
const STATES: SweepState[] = ['PENDING', 'RUNNING', 'PAUSED', 'FINISHED', 'CANCELED'];

export interface SweepRow {
  name: string;
  experiment_id: number;
  entity: string;
  project: string;
  config_yaml: string;
  config: string;
  method: string;
  state: SweepState;
  display_name: string | null;
  description: string | null;
  controller: string | null;
  scheduler: string | null;
  parent_run_id: string | null;
  created_at: number;
  updated_at: number;
}

const normalize = (r: SweepRow): SweepRow => ({ ...r, experiment_id: Number(r.experiment_id), created_at: Number(r.created_at), updated_at: Number(r.updated_at) });
export const sweepConfig = (s: SweepRow) => JSON.parse(s.config) as SweepConfig;

export async function sweepByName(db: Orm, name: string, lock = false): Promise<SweepRow | undefined> {
  const found = await rows<SweepRow>(db, sql`select * from wandb_sweeps where name = ${name}${lock ? sql` for update` : sql``}`);
  return found[0] && normalize(found[0]);
}

/** The sweep `name` of a project, as `project { sweep(sweepName:) }` and the agent look it up. */
export async function findSweep(deps: Deps, project: string, name: string, entity?: string): Promise<SweepRow | undefined> {
  const s = await sweepByName(deps.db, name);
  // Without an entity (the agent names only the project), the sweep's own project name must match.
  if (!s || !entity) return s && s.project === project ? s : undefined;
  const p = await findProject(deps, project, entity);
  return p && s.experiment_id === p.experimentId ? s : undefined;
}

// The client's `id` for a sweep is opaque; ours carries the sweep name.
export const sweepStorageId = (name: string) => Buffer.from(`Sweep:${name}`).toString('base64');
export function sweepNameFromId(id: string): string | undefined {
  const text = Buffer.from(id, 'base64').toString('utf8');
  return text.startsWith('Sweep:') ? text.slice('Sweep:'.length) : undefined;
}

export interface UpsertSweepInput {
  id?: string | null;
  config?: string | null;
  entityName?: string | null;
  projectName?: string | null;
  state?: string | null;
  displayName?: string | null;
  description?: string | null;
  /** A local controller's commands (JSON, see sweeps-schedule.ts). */
  controller?: string | null;
  /** `{"$or": [{"name": run id}]}`: existing runs to attach to a new sweep. */
  priorRunsFilters?: string | null;
}

export function parseConfig(yamlText: string): SweepConfig {
  return validateSweepConfig(parseSweepYaml(yamlText));
}

/**
 * UpsertSweep: without `id` creates a sweep (PENDING until an agent joins) and the MLflow run that
 * parents its trials; with `id` changes its state (pause, resume, stop, cancel) or its config.
 */
export async function upsertSweep(
  deps: Deps,
  user: WandbUser,
  input: UpsertSweepInput,
  beforeWrite?: (project: string, entity: string) => Promise<void>,
): Promise<{ sweep: SweepRow; projectCreated: boolean }> {
  if (input.id) {
    const name = sweepNameFromId(input.id) ?? input.id;
    const existing = await sweepByName(deps.db, name);
    if (!existing) throw notFound(`Sweep ${input.id} not found`);
    await beforeWrite?.(existing.project, existing.entity);
    return { sweep: await updateSweep(deps, existing.name, input), projectCreated: false };
  }
  if (!input.config) throw invalidParam('Invalid sweep config: the config is empty');
  const config = parseConfig(input.config);
  const project = validateWandbName('project', input.projectName || DEFAULT_PROJECT);
  const entity = validateWandbName('entity', input.entityName || user.name);
  await beforeWrite?.(project, entity);
  // Checked before anything is written: a missing prior run refuses the whole sweep.
  const priorRuns = await findPriorRuns(deps.db, (await findProject(deps, project, entity))?.experimentId, project, priorRunNames(input.priorRunsFilters));
  const { experimentId, created } = await ensureProject(deps, project, entity);
  const name = newWandbRunId();
  const now = deps.now();
  const sweep = await deps.db.transaction(async (tx) => {
    const root = await activeExperimentRoot(tx, experimentId, String(experimentId), () => invalidParam(`Project '${project}' is deleted`));
    const title = input.displayName || config.name || `sweep-${name}`;
    const tags = runTagValues([
      { key: 'mlflow.runName', value: title },
      { key: 'mlflow.user', value: user.name },
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'wandb.sweep_id', value: name },
      { key: 'wandb.sweep.method', value: config.method },
      { key: 'wandb.sweep.config', value: input.config! },
      { key: 'wandb.entity', value: entity },
      { key: 'wandb.project', value: project },
    ]);
    const parentRunId = await insertRun(tx, root, { runIds: [newRunId()], experimentId, name: title, userId: user.name, startTime: now, tags });
    await tx.execute(sql`insert into wandb_sweeps (name, experiment_id, entity, project, config_yaml, config, method, state, display_name,
        description, controller, parent_run_id, created_at, updated_at)
      values (${name}, ${experimentId}, ${entity}, ${project}, ${input.config!}, ${JSON.stringify(config)}, ${config.method}, 'PENDING',
        ${input.displayName ?? null}, ${input.description ?? config.description ?? null}, ${input.controller ?? null}, ${parentRunId ?? null}, ${now}, ${now})`);
    await attachPriorRuns(tx, name, parentRunId, priorRuns);
    return (await sweepByName(tx, name))!;
  });
  return { sweep, projectCreated: created };
}

async function updateSweep(deps: Deps, name: string, input: UpsertSweepInput): Promise<SweepRow> {
  return deps.db.transaction(async (tx) => {
    const sweep = (await sweepByName(tx, name, true))!;
    const txDeps = { ...deps, db: tx };
    // The local controller sends the config back unchanged with each of its commands.
    const config = input.config ? parseConfig(input.config) : undefined;
    if (config && JSON.stringify(config) !== sweep.config) {
      if (sweep.state !== 'PENDING' && sweep.state !== 'PAUSED') throw invalidParam(`Sweep ${name} is ${sweep.state.toLowerCase()}: pause it before changing its config`);
      await tx.execute(sql`update wandb_sweeps set config_yaml = ${input.config}, config = ${JSON.stringify(config)}, method = ${config.method},
        updated_at = ${deps.now()} where name = ${name}`);
    }
    if (input.state) await setState(txDeps, sweep, input.state.toUpperCase());
    if (input.controller) await tx.execute(sql`update wandb_sweeps set controller = ${input.controller}, updated_at = ${deps.now()} where name = ${name}`);
    if (input.displayName) await tx.execute(sql`update wandb_sweeps set display_name = ${input.displayName} where name = ${name}`);
    return (await sweepByName(tx, name))!;
  });
}

/** Moves a sweep to `state`, as `wandb sweep --pause/--resume/--stop/--cancel` ask; ended sweeps stay ended. */
export async function setState(deps: Deps, sweep: SweepRow, state: string): Promise<void> {
  if (!STATES.includes(state as SweepState) || state === 'PENDING') throw invalidParam(`Invalid sweep state '${state}': use RUNNING, PAUSED, FINISHED or CANCELED`);
  if (state === sweep.state) return;
  if (sweep.state === 'FINISHED' || sweep.state === 'CANCELED') throw invalidParam(`Sweep ${sweep.name} is already ${sweep.state.toLowerCase()}`);
  await deps.db.execute(sql`update wandb_sweeps set state = ${state}, updated_at = ${deps.now()} where name = ${sweep.name}`);
  if ((state === 'FINISHED' || state === 'CANCELED') && sweep.parent_run_id) {
    await updateRun(deps, { run_id: sweep.parent_run_id, status: state === 'FINISHED' ? 'FINISHED' : 'KILLED', end_time: deps.now() }).catch(() => {
      // The parent run was deleted through MLflow: the sweep ends all the same.
    });
  }
}

/** The sweep an agent works for (its project is what the caller needs permission on). */
export async function agentSweep(db: Orm, agentId: string): Promise<SweepRow> {
  const id = Number(agentId);
  const found = Number.isSafeInteger(id) ? await rows<{ sweep: string }>(db, sql`select sweep from wandb_sweep_agents where id = ${id}`) : [];
  if (!found.length) throw notFound(`Agent ${agentId} not found`);
  return (await sweepByName(db, found[0].sweep))!;
}

export async function createAgent(deps: Deps, input: { project?: string | null; sweep: string; host: string }): Promise<number> {
  const sweep = await findSweep(deps, input.project || DEFAULT_PROJECT, input.sweep);
  if (!sweep) throw notFound(`Sweep ${input.project || DEFAULT_PROJECT}/${input.sweep} not found`);
  if (sweep.state === 'FINISHED' || sweep.state === 'CANCELED') throw invalidParam(`Sweep ${sweep.name} is ${sweep.state.toLowerCase()}: it takes no new agents`);
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`update wandb_sweeps set state = 'RUNNING', updated_at = ${now} where name = ${sweep.name} and state = 'PENDING'`);
    const [agent] = await rows<{ id: number | string }>(
      tx,
      sql`insert into wandb_sweep_agents (sweep, host, created_at, heartbeat_at) values (${sweep.name}, ${input.host.slice(0, 256)}, ${now}, ${now}) returning id`,
    );
    return Number(agent.id);
  });
}

/** Tags that nest a W&B run joining `sweep` under the sweep's MLflow run. */
export async function sweepLinkTags(db: Orm, experimentId: number, sweep: string | null): Promise<{ key: string; value: string }[]> {
  if (!sweep) return [];
  const s = await sweepByName(db, sweep);
  if (!s || s.experiment_id !== experimentId) return [];
  return [{ key: 'wandb.sweep_id', value: s.name }, ...(s.parent_run_id ? [{ key: 'mlflow.parentRunId', value: s.parent_run_id }] : [])];
}

/** True when the sweep stopped this run early: its end is then KILLED, as W&B ends it. */
export async function stoppedBySweep(db: Orm, runId: string): Promise<boolean> {
  const found = await rows(
    db,
    sql`select 1 from wandb_sweep_trials t join wandb_runs w on w.name = t.run_name and w.sweep = t.sweep
        where w.run_id = ${runId} and t.should_stop`,
  );
  return found.length > 0;
}
