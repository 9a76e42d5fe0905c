import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { createExperiment } from '../experiments.js';

// A W&B project is an MLflow experiment, so `wandb.init(project="mnist")` and
// `mlflow.set_experiment("mnist")` log side by side. Each entity has its own projects
// (docs/teams.md#namespaces): `wandb_projects` maps (entity, project) to the experiment. The first
// entity to use `p` gets the experiment named `p`, any other gets `<entity>/p`; `/` is forbidden
// in W&B names, so a namespaced name never collides with a plain project's.

export const PROJECT_TAG = 'wandb.project';
export const DEFAULT_PROJECT = 'uncategorized';

// W&B refuses these in project, entity and run names; they would also break the file_stream path.
const FORBIDDEN = /[/\\#?%:\u0000-\u001f]/;

export function validateWandbName(kind: 'project' | 'entity' | 'run', name: string): string {
  if (!name || name.length > 128 || FORBIDDEN.test(name) || name.trim() !== name) {
    throw invalidParam(`Invalid ${kind} name '${name.slice(0, 130)}': use 1-128 characters, no slashes, '#', '?', '%', ':' or surrounding spaces`);
  }
  return name;
}

export interface ProjectRow {
  experimentId: number;
  /** The W&B project name (the experiment may be named `<entity>/<name>`). */
  name: string;
  lifecycleStage: string;
}

type Found = { experiment_id: number | string; lifecycle_stage: string };
const asRow = (project: string, f: Found): ProjectRow => ({ experimentId: Number(f.experiment_id), name: project, lifecycleStage: f.lifecycle_stage });

async function mapped(db: Orm, entity: string, project: string): Promise<Found | undefined> {
  return (await rows<Found>(db, sql`select e.experiment_id, e.lifecycle_stage from wandb_projects p join experiments e on e.experiment_id = p.experiment_id
      where p.entity = ${entity} and p.name = ${project}`))[0];
}

/** The experiment named `name` if no entity has claimed it yet (created with MLflow, say). */
async function unclaimed(db: Orm, name: string): Promise<Found | undefined> {
  return (await rows<Found>(db, sql`select e.experiment_id, e.lifecycle_stage from experiments e
      where e.name = ${name} and not exists (select 1 from wandb_projects p where p.experiment_id = e.experiment_id)`))[0];
}

/**
 * Entity `entity`'s project `project`: its mapped experiment, else the unclaimed experiment of that
 * name (the one its first use would claim). Without an entity (callers that only know a project's
 * name), the experiment of that name.
 */
export async function findProject(deps: Deps, project: string, entity?: string): Promise<ProjectRow | undefined> {
  if (entity) {
    const found = (await mapped(deps.db, entity, project)) ?? (await unclaimed(deps.db, project));
    return found && asRow(project, found);
  }
  const found = await rows<Found>(deps.db, sql`select experiment_id, lifecycle_stage from experiments where name = ${project}`);
  return found.length ? asRow(project, found[0]) : undefined;
}

/**
 * The active experiment behind entity `entity`'s project, created (or an unclaimed one of its
 * name claimed) on first use; `created` says whether this call created it (its caller then
 * manages it), never true for two racing callers.
 */
export async function ensureProject(deps: Deps, project: string, entity?: string): Promise<{ experimentId: number; created: boolean }> {
  validateWandbName('project', project);
  if (!entity) return ensureNamed(deps, project);
  let created = false;
  let found = await mapped(deps.db, entity, project);
  if (!found) {
    // One claim at a time per project name, so two entities never both take the plain name.
    created = await deps.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`wandb-project:${project}`}))`);
      if (await mapped(tx, entity, project)) return false;
      const taken = (await rows(tx, sql`select 1 from experiments where name = ${project}`)).length > 0 && !(await unclaimed(tx, project));
      const { experimentId, created } = await ensureNamed({ ...deps, db: tx }, taken ? `${entity}/${project}` : project, project);
      await tx.execute(sql`insert into wandb_projects (entity, name, experiment_id) values (${entity}, ${project}, ${experimentId}) on conflict do nothing`);
      return created;
    });
    found = await mapped(deps.db, entity, project);
  }
  if (!found) throw invalidParam(`Project '${entity}/${project}' could not be created`);
  return { experimentId: activeOrRefuse(project, found), created };
}

function activeOrRefuse(project: string, found: Found): number {
  if (found.lifecycle_stage !== 'active') {
    throw invalidParam(
      `Project '${project}' is the MLflow experiment ${found.experiment_id}, which is deleted: restore it (mlflow experiments restore) or log to another project`,
    );
  }
  return Number(found.experiment_id);
}

/** The experiment named `name`, created if missing. */
async function ensureNamed(deps: Deps, name: string, project = name): Promise<{ experimentId: number; created: boolean }> {
  let created = false;
  const byName = async () => (await rows<Found>(deps.db, sql`select experiment_id, lifecycle_stage from experiments where name = ${name}`))[0];
  let found = await byName();
  if (!found) {
    try {
      await createExperiment(deps, { name, tags: [{ key: PROJECT_TAG, value: project }] });
      created = true;
    } catch (err) {
      // Another request created it first.
      if (!(err instanceof MlflowError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    found = await byName();
  }
  if (!found) throw invalidParam(`Project '${project}' could not be created`);
  return { experimentId: activeOrRefuse(project, found), created };
}

export interface EntityProject extends ProjectRow {
  createdAt: number;
}

/** The projects of an entity: those mapped to it (a team's, or logged under its name). */
export async function entityProjects(deps: Deps, entity: string): Promise<EntityProject[]> {
  const found = await rows<{ experiment_id: number | string; name: string; creation_time: number | string }>(
    deps.db,
    sql`select e.experiment_id, p.name, e.creation_time from wandb_projects p join experiments e on e.experiment_id = p.experiment_id
        where p.entity = ${entity} and e.lifecycle_stage = 'active'
        order by p.name`,
  );
  return found.map((r) => ({ experimentId: Number(r.experiment_id), name: r.name, lifecycleStage: 'active', createdAt: Number(r.creation_time) }));
}

export async function projectCreatedAt(deps: Deps, experimentId: number): Promise<number | null> {
  const found = await rows<{ creation_time: number | string }>(deps.db, sql`select creation_time from experiments where experiment_id = ${experimentId}`);
  return found.length ? Number(found[0].creation_time) : null;
}
