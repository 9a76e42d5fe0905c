import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
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

/** The tag that names, at creation, the team a registered model belongs to (docs/teams.md). */
export const TEAM_TAG = 'cairn.team';

/**
 * The team a new registered model is created for, from its `cairn.team` tag: the creator must be a
 * member or admin of that team (a viewer may not add to it). Refuses a tag naming no team.
 */
export async function teamOfNewModel(deps: Deps, p: Principal, tags: { key: string; value?: string }[] | undefined): Promise<TeamRow | undefined> {
  const named = tags?.find((t) => t.key === TEAM_TAG);
  if (!named) return undefined;
  const team = await checkEntity(deps, p, named.value ?? '', 'edit');
  if (!team) throw notFound(`Team '${String(named.value).slice(0, 80)}' not found (the '${TEAM_TAG}' tag names the team that owns the model)`);
  return team;
}

/** The owning team is decided once, at creation: its tag is a record, not a switch. */
export function refuseTeamTagChange(key: string): void {
  if (key === TEAM_TAG) throw invalidParam(`The '${TEAM_TAG}' tag is set when the model is created; share the model with another team instead (cairn teams share)`);
}
