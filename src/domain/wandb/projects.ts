import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { createExperiment } from '../experiments.js';

// A W&B project is the MLflow experiment of the same name, so `wandb.init(project="mnist")` and
// `mlflow.set_experiment("mnist")` log side by side. The entity is a label on each run (tag
// `wandb.entity`), not part of the experiment's name: Cairn, like MLflow, has one namespace.

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
  name: string;
  lifecycleStage: string;
}

export async function findProject(deps: Deps, project: string): Promise<ProjectRow | undefined> {
  const found = await rows<{ experiment_id: number | string; lifecycle_stage: string }>(
    deps.db,
    sql`select experiment_id, lifecycle_stage from experiments where name = ${project}`,
  );
  if (!found.length) return undefined;
  return { experimentId: Number(found[0].experiment_id), name: project, lifecycleStage: found[0].lifecycle_stage };
}

/**
 * The active experiment behind a project, created on first use; `created` says whether this call
 * created it (its caller then manages it), never true for two racing callers.
 */
export async function ensureProject(deps: Deps, project: string): Promise<{ experimentId: number; created: boolean }> {
  validateWandbName('project', project);
  let found = await findProject(deps, project);
  let created = false;
  if (!found) {
    try {
      await createExperiment(deps, { name: project, tags: [{ key: PROJECT_TAG, value: project }] });
      created = true;
    } catch (err) {
      // Another request created it first.
      if (!(err instanceof MlflowError && err.code === 'RESOURCE_ALREADY_EXISTS')) throw err;
    }
    found = await findProject(deps, project);
  }
  if (!found) throw invalidParam(`Project '${project}' could not be created`);
  if (found.lifecycleStage !== 'active') {
    throw invalidParam(
      `Project '${project}' is the MLflow experiment ${found.experimentId}, which is deleted: restore it (mlflow experiments restore) or log to another project`,
    );
  }
  return { experimentId: found.experimentId, created };
}

export interface EntityProject extends ProjectRow {
  createdAt: number;
}

/**
 * The projects of an entity: those a team owns, and those holding runs logged under the entity's
 * name (entities were labels on runs before teams; docs/teams.md).
 */
export async function entityProjects(deps: Deps, entity: string): Promise<EntityProject[]> {
  const found = await rows<{ experiment_id: number | string; name: string; creation_time: number | string }>(
    deps.db,
    sql`select e.experiment_id, e.name, e.creation_time from experiments e
        where e.lifecycle_stage = 'active'
          and (exists (select 1 from wandb_runs w where w.experiment_id = e.experiment_id and w.entity = ${entity})
               or e.experiment_id in (select te.experiment_id from team_experiments te join teams t on t.id = te.team_id where t.name = ${entity}))
        order by e.name`,
  );
  return found.map((r) => ({ experimentId: Number(r.experiment_id), name: r.name, lifecycleStage: 'active', createdAt: Number(r.creation_time) }));
}

export async function projectCreatedAt(deps: Deps, experimentId: number): Promise<number | null> {
  const found = await rows<{ creation_time: number | string }>(deps.db, sql`select creation_time from experiments where experiment_id = ${experimentId}`);
  return found.length ? Number(found[0].creation_time) : null;
}
