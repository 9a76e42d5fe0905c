import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { alreadyExists, invalidParam, notFound } from '../../errors.js';
import { findUser, getUser, validateUsername } from '../../auth/accounts.js';
import type { Permission } from '../../auth/permissions.js';

// Teams: named groups of accounts with a role each. A team is a W&B entity, so its name is taken
// from the same namespace as usernames: a team cannot be named like an account and vice versa
// (the latter is checked where accounts are created).

export const ROLES = ['admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do on the team's experiments (docs/teams.md). */
export const ROLE_PERMISSION: Record<Role, Permission> = { viewer: 'READ', member: 'EDIT', admin: 'MANAGE' };

export interface TeamRow {
  id: number;
  name: string;
  createdAt: number;
}

export interface MemberRow {
  userId: number;
  username: string;
  role: Role;
}

export function parseRole(value: unknown): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw invalidParam(`Invalid team role '${String(value).slice(0, 40)}'. Valid roles are: ${ROLES.join(', ')}`);
}

type RawTeam = { id: number | string; name: string; created_at: number | string };
const team = (r: RawTeam): TeamRow => ({ id: Number(r.id), name: r.name, createdAt: Number(r.created_at) });

export async function findTeam(db: Orm, name: string): Promise<TeamRow | undefined> {
  const found = await rows<RawTeam>(db, sql`select id, name, created_at from teams where name = ${name}`);
  return found.length ? team(found[0]) : undefined;
}

export async function getTeam(deps: Deps, name: string): Promise<TeamRow> {
  const found = await findTeam(deps.db, name);
  if (!found) throw notFound(`Team '${String(name).slice(0, 80)}' not found`);
  return found;
}

/** Creates a team with `admin` as its first admin. */
export async function createTeam(deps: Deps, name: unknown, admin: string): Promise<TeamRow> {
  // Team names follow the username rule: both are W&B entities and appear in the same paths.
  const teamName = validateUsername(name);
  const adminUser = await getUser(deps, admin);
  if (await findUser(deps.db, teamName)) throw alreadyExists(`'${teamName}' is already an account's entity: choose another team name`);
  return deps.db.transaction(async (tx) => {
    const made = await rows<RawTeam>(
      tx,
      sql`insert into teams (name, created_at) values (${teamName}, ${deps.now()}) on conflict (name) do nothing returning id, name, created_at`,
    );
    if (!made.length) throw alreadyExists(`Team '${teamName}' already exists.`);
    const created = team(made[0]);
    await tx.execute(sql`insert into team_members (team_id, user_id, role, created_at) values (${created.id}, ${adminUser.id}, 'admin', ${deps.now()})`);
    return created;
  });
}

/** Adds `username` to the team, or changes the role of a member. */
export async function setMember(deps: Deps, teamName: string, username: string, role: unknown): Promise<MemberRow> {
  const r = parseRole(role);
  const t = await getTeam(deps, teamName);
  const user = await getUser(deps, username);
  await deps.db.execute(sql`insert into team_members (team_id, user_id, role, created_at) values (${t.id}, ${user.id}, ${r}, ${deps.now()})
                            on conflict (team_id, user_id) do update set role = excluded.role`);
  return { userId: user.id, username: user.username, role: r };
}

/** Removes a member; the last admin stays (a team nobody can manage is lost to everyone but server admins). */
export async function removeMember(deps: Deps, teamName: string, username: string): Promise<void> {
  const t = await getTeam(deps, teamName);
  const user = await getUser(deps, username);
  const members = await listMembers(deps.db, t.id);
  const member = members.find((m) => m.userId === user.id);
  if (!member) throw notFound(`User '${username}' is not a member of team '${t.name}'`);
  if (member.role === 'admin' && members.filter((m) => m.role === 'admin').length === 1) {
    throw invalidParam(`'${username}' is the last admin of team '${t.name}': make another member admin first`);
  }
  await deps.db.execute(sql`delete from team_members where team_id = ${t.id} and user_id = ${user.id}`);
}

export async function listMembers(db: Orm, teamId: number): Promise<MemberRow[]> {
  const found = await rows<{ user_id: number | string; username: string; role: Role }>(
    db,
    sql`select m.user_id, u.username, m.role from team_members m join users u on u.id = m.user_id
        where m.team_id = ${teamId} order by u.username`,
  );
  return found.map((r) => ({ userId: Number(r.user_id), username: r.username, role: r.role }));
}

/** The teams `username` belongs to, with its role in each. */
export async function teamsOf(db: Orm, username: string): Promise<(TeamRow & { role: Role })[]> {
  const found = await rows<RawTeam & { role: Role }>(
    db,
    sql`select t.id, t.name, t.created_at, m.role from teams t join team_members m on m.team_id = t.id
        join users u on u.id = m.user_id where u.username = ${username} order by t.name`,
  );
  return found.map((r) => ({ ...team(r), role: r.role }));
}

export async function listTeams(db: Orm): Promise<TeamRow[]> {
  return (await rows<RawTeam>(db, sql`select id, name, created_at from teams order by name`)).map(team);
}

export async function roleIn(db: Orm, teamId: number, userId: number): Promise<Role | undefined> {
  const found = await rows<{ role: Role }>(db, sql`select role from team_members where team_id = ${teamId} and user_id = ${userId}`);
  return found[0]?.role;
}
