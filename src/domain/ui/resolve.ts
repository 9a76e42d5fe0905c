import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { findProject } from '../wandb/projects.js';

/**
 * The experiment (and run) a W&B URL `/<entity>/<project>[/runs/<run>]` names: the entity's project
 * (src/domain/wandb/projects.ts). `run` is the W&B run id, or the MLflow run id of a run in the project.
 */
export async function resolveWandbPath(
  deps: Deps,
  input: { entity: string; project: string; run?: string },
): Promise<{ experiment_id: string; run_id?: string }> {
  // The entity's own project (docs/teams.md#namespaces).
  const experiment = await findProject(deps, input.project, input.entity);
  if (!experiment) throw notFound(`No project named '${input.project}'`);
  const experimentId = String(experiment.experimentId);
  if (input.run === undefined) return { experiment_id: experimentId };
  const [run] = await rows<{ run_id: string }>(
    deps.db,
    sql`select run_id from (
          select run_id, 0 as rank from wandb_runs where experiment_id = ${experimentId}::bigint and name = ${input.run}
          union all
          select run_id, 1 from runs where experiment_id = ${experimentId}::bigint and run_id = ${input.run}) found
        order by rank limit 1`,
  );
  if (!run) throw notFound(`No run '${input.run}' in project '${input.project}'`);
  return { experiment_id: experimentId, run_id: run.run_id };
}
