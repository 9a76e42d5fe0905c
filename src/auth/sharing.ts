import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import { parseShareLevel, shareWithTeam, unshareWithTeam, type ShareLevel } from '../domain/teams/team-grants.js';
import { deletePermission, parseResourceKind, setPermission, type ResourceKind } from './grants.js';
import { requireExperiment, requireModel } from './resources.js';

// Sharing a project (experiment) or registered model with another team or one user at a chosen
// level (docs/teams.md#sharing), for the HTTP route and `cairn teams share` alike. A user share is
// that user's own permission row (MLflow's per-user grant); a team share reaches every member,
// capped by their role.

export interface ShareRequest {
  resource_type: string;
  /** An experiment id, or a registered model's name (as MLflow's `grant_user_permission`). */
  resource_id: string;
  team?: string;
  username?: string;
}

export async function shareTarget(deps: Deps, req: ShareRequest): Promise<{ kind: ResourceKind; id: number }> {
  const kind = parseResourceKind(req.resource_type);
  const id = kind === 'experiment' ? await requireExperiment(deps, req.resource_id) : await requireModel(deps, req.resource_id);
  return { kind, id };
}

function grantee(req: ShareRequest): { team: string } | { username: string } {
  if ((req.team === undefined) === (req.username === undefined)) throw invalidParam('Share with exactly one of `team` or `username`');
  return req.team !== undefined ? { team: req.team } : { username: req.username! };
}

export async function share(deps: Deps, req: ShareRequest & { permission: unknown }): Promise<ShareLevel> {
  const who = grantee(req);
  const level = parseShareLevel(req.permission);
  const { kind, id } = await shareTarget(deps, req);
  if ('team' in who) return shareWithTeam(deps, kind, id, who.team, level);
  await setPermission(deps, kind, id, who.username, level, 'upsert');
  return level;
}

export async function unshare(deps: Deps, req: ShareRequest): Promise<void> {
  const who = grantee(req);
  const { kind, id } = await shareTarget(deps, req);
  if ('username' in who) return deletePermission(deps, kind, id, who.username);
  if (!(await unshareWithTeam(deps, kind, id, who.team))) throw notFound(`${kind} ${req.resource_id.slice(0, 250)} is not shared with team '${who.team}'`);
}
