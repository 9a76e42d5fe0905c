import { readablePredicate } from '../../auth/grants.js';
import { checkTeamAdmin } from '../../auth/teams.js';
import { checkProject } from '../../auth/wandb.js';
import { findUser, getUser } from '../../auth/accounts.js';
import { alreadyExists, invalidParam, notFound } from '../../errors.js';
import { recordActivity } from '../../domain/activity.js';
import { setRunLifecycle } from '../../domain/runs.js';
import { createTeam, findTeam, getTeam, listMembers, removeMember, roleIn, setMember, teamsOf } from '../../domain/teams/teams.js';
import { deleteRunArtifacts } from '../../domain/wandb/artifacts.js';
import { entityProjects } from '../../domain/wandb/projects.js';
import { isoTime } from '../../domain/wandb/run-filters.js';
import { runById, runIdFromStorageId } from '../../domain/wandb/run-store.js';
import type { GqlContext } from './resolvers.js';
import { entityObject, userNameFromId, userObject, type EntityObj } from './wire-objects.js';

// Thin GraphQL adapters over teams (src/domain/teams) and the public API's project listing and
// run deletion. Permission rules: docs/teams.md.

type Args = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const MAX_PAGE = 1000;

/** May the caller see a team's member list: its members, and admins (everyone with auth off). */
async function seesMembers(ctx: GqlContext, teamId: number): Promise<boolean> {
  const p = ctx.principal;
  if (p.kind === 'open' || (p.kind === 'user' && p.isAdmin)) return true;
  return p.kind === 'user' && (await roleIn(ctx.deps.db, teamId, p.id)) !== undefined;
}

function page<T>(items: T[], after: unknown, first: unknown) {
  const offset = typeof after === 'string' && /^\d{1,9}$/.test(after) ? Number(after) : 0;
  const size = Math.min(Math.max(typeof first === 'number' ? first : 50, 0), MAX_PAGE);
  const slice = items.slice(offset, offset + size);
  return {
    edges: slice.map((node, i) => ({ node, cursor: String(offset + i + 1) })),
    pageInfo: { startCursor: slice.length ? String(offset + 1) : null, endCursor: slice.length ? String(offset + slice.length) : null, hasNextPage: offset + size < items.length, hasPreviousPage: offset > 0 },
  };
}

export const teamResolvers = {
  Query: {
    models: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const entity = str(args.entityName) ?? ctx.defaultEntity;
      const readable = await readablePredicate(ctx.deps, ctx.principal, 'experiment');
      const projects = (await entityProjects(ctx.deps, entity)).filter((p) => readable(p.experimentId));
      return page(projects.map((p) => ({ experimentId: p.experimentId, name: p.name, entity })), args.after, args.first);
    },
    // Cairn has no organizations: the client then reports "Organization … not found".
    organization: () => null,
  },
  Mutation: {
    createTeam: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { teamName: string; teamAdminUserName?: string | null };
      const admin = i.teamAdminUserName || ctx.user.name;
      const p = ctx.principal;
      // Anyone may found a team and run it; naming someone else its admin is for server admins.
      if (p.kind === 'user' && !p.isAdmin && admin !== p.username) throw invalidParam('only a server admin may create a team with another user as its admin');
      const team = await createTeam(ctx.deps, i.teamName, admin);
      return { entity: entityObject(team.name) };
    },
    createInvite: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { entityName: string; email?: string | null; username?: string | null; admin?: boolean | null };
      const team = await getTeam(ctx.deps, i.entityName);
      await checkTeamAdmin(ctx.deps, ctx.principal, team);
      // Cairn has no e-mail: an address is looked up as a username (usernames may contain '@').
      const who = str(i.username) ?? str(i.email);
      if (!who) throw invalidParam('createInvite needs a username or email');
      const user = await getUser(ctx.deps, who);
      if (await roleIn(ctx.deps.db, team.id, user.id)) throw alreadyExists(`'${user.username}' is already a member of team '${team.name}'`);
      // There is no pending state: the account joins at once (as admin or member).
      await setMember(ctx.deps, team.name, user.username, i.admin ? 'admin' : 'member');
      const u = userObject({ name: user.username });
      return { invite: { id: u.id, name: user.username, email: null, createdAt: isoTime(ctx.deps.now()), toUser: u } };
    },
    deleteInvite: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { id?: string | null; entityName?: string | null };
      const team = await getTeam(ctx.deps, str(i.entityName) ?? '');
      const username = userNameFromId(i.id);
      if (!username) throw notFound(`No member with id '${String(i.id).slice(0, 80)}'`);
      // A member may leave; removing anyone else is for the team's admins.
      const p = ctx.principal;
      if (!(p.kind === 'user' && p.username === username)) await checkTeamAdmin(ctx.deps, p, team);
      await removeMember(ctx.deps, team.name, username);
      return { success: true };
    },
    deleteRun: async (_s: unknown, args: Args, ctx: GqlContext) => {
      const i = args.input as { id: string; deleteArtifacts?: boolean | null; clientMutationId?: string | null };
      const runId = runIdFromStorageId(i.id);
      const run = runId ? await runById(ctx.deps.db, runId) : undefined;
      if (!run || run.lifecycle_stage !== 'active') throw notFound(`Run with id ${String(i.id).slice(0, 100)} not found`);
      // Deleting is MANAGE, as MLflow's delete_run (a team's admins, the project's creator).
      await checkProject(ctx.deps, ctx.principal, run.project, 'manage');
      await setRunLifecycle(ctx.deps, run.run_id, 'deleted');
      await recordActivity(ctx.deps.db, run.run_id, ['stage'], ctx.user.name, ctx.deps.now(), 'deleted');
      // The run stays restorable in MLflow; its deleted artifact versions do not come back.
      if (i.deleteArtifacts === true) await deleteRunArtifacts(ctx.deps, run.run_id);
      return { clientMutationId: i.clientMutationId ?? null };
    },
  },
  Project: {
    isBenchmark: () => false,
    user: () => null,
  },
  User: {
    teams: async (u: { name: string }, _a: Args, ctx: GqlContext) => ({
      edges: (await teamsOf(ctx.deps.db, u.name)).map((t) => ({ node: entityObject(t.name) })),
    }),
  },
  Entity: {
    isTeam: async (e: EntityObj, _a: Args, ctx: GqlContext) => (await findTeam(ctx.deps.db, e.name)) !== undefined,
    entityType: async (e: EntityObj, _a: Args, ctx: GqlContext) => ((await findTeam(ctx.deps.db, e.name)) ? 'TEAM' : 'USER'),
    // W&B's `available`: whether the name is free for a new user or team.
    available: async (e: EntityObj, _a: Args, ctx: GqlContext) => !(await findTeam(ctx.deps.db, e.name)) && !(await findUser(ctx.deps.db, e.name)),
    photoUrl: () => null,
    readOnly: () => false,
    readOnlyAdmin: () => false,
    privateOnly: () => false,
    storageBytes: () => 0,
    codeSavingEnabled: () => false,
    defaultAccess: () => 'MEMBERS',
    isPaid: () => false,
    limits: () => '{}',
    members: async (e: EntityObj, _a: Args, ctx: GqlContext) => {
      const team = await findTeam(ctx.deps.db, e.name);
      if (!team || !(await seesMembers(ctx, team.id))) return [];
      return (await listMembers(ctx.deps.db, team.id)).map((m) => ({
        id: userObject({ name: m.username }).id,
        admin: m.role === 'admin',
        pending: false,
        email: null,
        username: m.username,
        name: m.username,
        photoUrl: null,
        accountType: 'USER',
        apiKey: null,
        role: m.role,
      }));
    },
  },
};
