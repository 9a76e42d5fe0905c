import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { checkTeamAdmin } from '../../auth/teams.js';
import { createTeam, getTeam, listMembers, listTeams, removeMember, roleIn, ROLES, setMember, teamsOf } from '../../domain/teams/teams.js';
import type { Deps } from '../../deps.js';
import { authorize, permissionDenied, principalOf } from '../../auth/policy.js';
import { share, shareTarget, unshare, type ShareRequest } from '../../auth/sharing.js';
import { defaultEntityOf, setDefaultEntity } from '../../domain/teams/default-entity.js';
import { ownedBy, sharedWith, sharesOf } from '../../domain/teams/team-resources.js';
import type { ResourceKind } from '../../auth/grants.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { caller, requireAuthOn, requireSelfOrAdmin } from './access.js';

const tag = 'Teams';
const teamOut = z.object({ id: z.number().int(), name: z.string(), created_at: z.number().int(), role: z.enum(ROLES).optional() });
const memberOut = z.object({ username: z.string(), role: z.enum(ROLES) });
const resourceOut = z.object({
  resource_type: z.enum(['experiment', 'registered_model']),
  resource_id: z.string().openapi({ description: "The experiment's id, or the registered model's name" }),
  name: z.string(),
});
const shareOut = z.object({ team: z.string().optional(), username: z.string().optional(), permission: z.string() });

/** Team admins see and change their team; members see it; server admins do everything. */
async function mayRead(c: Context, deps: Deps, teamId: number): Promise<void> {
  const me = caller(c);
  if (me.isAdmin) return;
  if (!(await roleIn(deps.db, teamId, me.id))) throw permissionDenied(`'${me.username}' is not a member of this team`);
}

/**
 * Sharing a resource is managing it (MANAGE: its creator, its team's admins, server admins);
 * seeing who it is shared with needs READ on it.
 */
async function requireOn(c: Context, deps: Deps, req: ShareRequest, need: 'read' | 'manage'): Promise<{ kind: ResourceKind; id: number }> {
  requireAuthOn(deps);
  const target = await shareTarget(deps, req);
  if (target.kind === 'experiment') await authorize(deps, principalOf(c), `experiment:${need}`, { experiment_id: req.resource_id });
  else await authorize(deps, principalOf(c), `model:${need}`, { name: req.resource_id });
  return target;
}

const shareIn = z.object({
  resource_type: requiredString.openapi({ description: '`experiment` or `registered_model`' }),
  resource_id: requiredString.openapi({ description: "The experiment's id, or the registered model's name" }),
  team: z.string().optional(),
  username: z.string().optional(),
});

/** Teams over HTTP (`cairn teams …` does the same directly on Postgres); docs/teams.md. */
export function teamRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/cairn/teams/create', access: 'authenticated', tag,
    summary: 'Create a team; you (or `admin`, when a server admin asks) become its first admin',
    input: z.object({ name: requiredString, admin: z.string().optional() }),
    output: z.object({ team: teamOut }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const me = input.admin === undefined ? caller(c) : requireSelfOrAdmin(c, input.admin);
      const team = await createTeam(deps, input.name, input.admin ?? me.username);
      return { team: { id: team.id, name: team.name, created_at: team.createdAt } };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/teams/members/set', access: 'authenticated', tag,
    summary: "Add a user to a team or change their role (admin, member, viewer): the team's admins",
    input: z.object({ team: requiredString, username: requiredString, role: requiredString }),
    output: z.object({ member: memberOut }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      await checkTeamAdmin(deps, principalOf(c), await getTeam(deps, input.team));
      const m = await setMember(deps, input.team, input.username, input.role);
      return { member: { username: m.username, role: m.role } };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/teams/members/remove', access: 'authenticated', tag,
    summary: "Remove a user from a team: the team's admins, or the user leaving",
    input: z.object({ team: requiredString, username: requiredString }),
    output: z.object({}),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      if (caller(c).username !== input.username) await checkTeamAdmin(deps, principalOf(c), await getTeam(deps, input.team));
      await removeMember(deps, input.team, input.username);
      return {};
    },
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/teams/get', access: 'authenticated', tag,
    summary: 'A team, its members, the projects and models it owns, and those shared with it (for its members and server admins)',
    input: z.object({ name: requiredString }),
    output: z.object({
      team: teamOut,
      members: z.array(memberOut),
      owned: z.array(resourceOut),
      shared_with_team: z.array(resourceOut.extend({ permission: z.string() })),
    }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const team = await getTeam(deps, input.name);
      await mayRead(c, deps, team.id);
      const members = await listMembers(deps.db, team.id);
      return {
        team: { id: team.id, name: team.name, created_at: team.createdAt },
        members: members.map((m) => ({ username: m.username, role: m.role })),
        owned: await ownedBy(deps.db, team.id),
        shared_with_team: await sharedWith(deps.db, team.id),
      };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/teams/list', access: 'authenticated', tag,
    summary: "A user's teams with their role (yours, or `username`'s as an admin); all teams for an admin without `username`",
    input: z.object({ username: z.string().optional() }),
    output: z.object({ teams: z.array(teamOut) }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const me = caller(c);
      if (input.username === undefined && me.isAdmin) {
        return { teams: (await listTeams(deps.db)).map((t) => ({ id: t.id, name: t.name, created_at: t.createdAt })) };
      }
      const who = input.username ?? me.username;
      requireSelfOrAdmin(c, who);
      return { teams: (await teamsOf(deps.db, who)).map((t) => ({ id: t.id, name: t.name, created_at: t.createdAt, role: t.role })) };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/users/default-entity', access: 'authenticated', tag,
    summary: "Set the W&B entity your runs go to when the client names none (your username, or a team you log into); empty resets it. `username` for admins",
    input: z.object({ entity: z.string().optional(), username: z.string().optional() }),
    output: z.object({ default_entity: z.string() }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const who = input.username ?? caller(c).username;
      requireSelfOrAdmin(c, who);
      return { default_entity: await setDefaultEntity(deps, who, input.entity) };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/users/default-entity', access: 'authenticated', tag,
    summary: 'The W&B entity your runs go to when the client names none (`username` for admins)',
    input: z.object({ username: z.string().optional() }),
    output: z.object({ default_entity: z.string() }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const who = input.username ?? caller(c).username;
      requireSelfOrAdmin(c, who);
      return { default_entity: await defaultEntityOf(deps.db, who) };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/teams/shares', access: 'authenticated', tag,
    summary: "Who an experiment or registered model is shared with: teams, and users' own permission rows (needs READ on it)",
    input: shareIn.pick({ resource_type: true, resource_id: true }),
    output: z.object({ shares: z.array(shareOut) }),
    handle: async (deps, input, c) => {
      const { kind, id } = await requireOn(c, deps, input, 'read');
      return { shares: await sharesOf(deps.db, kind, id) };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/teams/share', access: 'authenticated', tag,
    summary: 'Share an experiment or registered model with a team or a user at READ, EDIT or MANAGE (needs MANAGE on it)',
    input: shareIn.extend({ permission: requiredString }),
    output: z.object({ permission: z.enum(['READ', 'EDIT', 'MANAGE']) }),
    handle: async (deps, input, c) => {
      await requireOn(c, deps, input, 'manage');
      return { permission: await share(deps, input) };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/teams/unshare', access: 'authenticated', tag,
    summary: 'End the share of an experiment or registered model with a team or a user (needs MANAGE on it)',
    input: shareIn,
    output: z.object({}),
    handle: async (deps, input, c) => {
      await requireOn(c, deps, input, 'manage');
      await unshare(deps, input);
      return {};
    },
  });
}
