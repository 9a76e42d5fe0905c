import type { Deps } from '../deps.js';
import { findProject } from '../domain/wandb/projects.js';
import { findTeam, roleIn, ROLE_PERMISSION, type TeamRow } from '../domain/teams/teams.js';
import { effectivePermission, grantCreator } from './grants.js';
import { allows, type Need } from './permissions.js';
import { permissionDenied, unauthenticated } from './policy.js';
import type { Principal } from './principal.js';

// A W&B project is the experiment of the same name, so its experiment permissions are the
// project's: READ to read runs, EDIT to create or log to them.

/**
 * Refuses (403) unless `p` may `need` on the project. A project that does not exist yet is open to
 * any account (creating it makes the caller its manager, see afterProjectWrite).
 */
export async function checkProject(deps: Deps, p: Principal, project: string | undefined, need: Need): Promise<void> {
  if (p.kind === 'open') return;
  if (p.kind !== 'user') throw unauthenticated();
  if (!project) return;
  const found = await findProject(deps, project);
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

/**
 * A W&B entity that is a team may be logged into by its members and admins only; viewers read.
 * Any other entity is the caller's own or a label from before teams existed (docs/teams.md).
 * Returns the team, so that a project the write creates becomes the team's.
 */
export async function checkEntity(deps: Deps, p: Principal, entity: string | undefined, need: Need): Promise<TeamRow | undefined> {
  if (!entity) return undefined;
  const team = await findTeam(deps.db, entity);
  if (!team || p.kind === 'open' || (p.kind === 'user' && p.isAdmin)) return team;
  if (p.kind !== 'user') throw unauthenticated();
  const role = await roleIn(deps.db, team.id, p.id);
  if (!role) throw permissionDenied(`'${p.username}' is not a member of team '${team.name}'`);
  if (!allows(ROLE_PERMISSION[role], need)) throw permissionDenied(`${need} access to team '${team.name}' (you are a ${role})`);
  return team;
}

/** Team admins (and server admins) manage the team's members. */
export async function checkTeamAdmin(deps: Deps, p: Principal, team: TeamRow): Promise<void> {
  if (p.kind === 'open' || (p.kind === 'user' && p.isAdmin)) return;
  if (p.kind !== 'user') throw unauthenticated();
  if ((await roleIn(deps.db, team.id, p.id)) !== 'admin') throw permissionDenied(`only an admin of team '${team.name}' may change its members`);
}
