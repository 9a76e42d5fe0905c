import type { Deps } from '../deps.js';
import { findProject } from '../domain/wandb/projects.js';
import { effectivePermission, grantCreator } from './grants.js';
import { allows, type Need } from './permissions.js';
import { permissionDenied, unauthenticated } from './policy.js';
import type { Principal } from './principal.js';

// A W&B project is an experiment (the entity's, docs/teams.md#namespaces), so its experiment
// permissions are the project's: READ to read runs, EDIT to create or log to them.

/**
 * Refuses (403) unless `p` may `need` on the project. A project that does not exist yet is open to
 * any account (creating it makes the caller its manager, see afterProjectWrite).
 */
export async function checkProject(deps: Deps, p: Principal, project: string | undefined, need: Need, entity?: string): Promise<void> {
  if (p.kind === 'open') return;
  if (p.kind !== 'user') throw unauthenticated();
  if (!project) return;
  const found = await findProject(deps, project, entity);
  if (!found) return;
  const perm = await effectivePermission(deps, p, 'experiment', found.experimentId);
  if (!allows(perm, need)) throw permissionDenied(`${need} access to project '${project}' (experiment ${found.experimentId}; you have ${perm})`);
}

/**
 * The creator of a project gets MANAGE on its experiment, as for an MLflow experiment. `created`
 * comes from the insert itself, so of two callers racing to create a project only the winner
 * manages it.
 */
export async function afterProjectWrite(deps: Deps, p: Principal, created: boolean, experimentId: number): Promise<void> {
  if (created) await grantCreator(deps, p, 'experiment', experimentId);
}

