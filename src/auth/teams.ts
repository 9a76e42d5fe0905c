import type { Deps } from '../deps.js';
import { findTeam, roleIn, ROLE_PERMISSION, type TeamRow } from '../domain/teams/teams.js';
import { allows, type Need } from './permissions.js';
import { permissionDenied, unauthenticated } from './policy.js';
import type { Principal } from './principal.js';

// Who may log into a team's entity and who may change its members (docs/teams.md).

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
