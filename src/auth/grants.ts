import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { alreadyExists, invalidParam, notFound } from '../errors.js';
import { getUser } from './accounts.js';
import { parsePermission, type Permission } from './permissions.js';
import type { Principal } from './principal.js';
import { teamPermission, teamPermissions } from '../domain/teams/team-grants.js';

// Per-user permissions on experiments and registered models. No row means the configured default.
// The table and column come from this closed map, never from a request.

export type ResourceKind = 'experiment' | 'registered_model';

const TABLES = {
  experiment: { table: sql.raw('experiment_permissions'), column: sql.raw('experiment_id') },
  registered_model: { table: sql.raw('registered_model_permissions'), column: sql.raw('registered_model_id') },
} as const;

export async function explicitPermission(deps: Deps, kind: ResourceKind, resourceId: number, userId: number): Promise<Permission | undefined> {
  const { table, column } = TABLES[kind];
  const found = await rows<{ permission: string }>(deps.db, sql`select permission from ${table} where ${column} = ${resourceId} and user_id = ${userId}`);
  return found.length ? (found[0].permission as Permission) : undefined;
}

/** What a caller may do with one resource: everything when unrestricted, else its row or the default. */
export async function effectivePermission(deps: Deps, p: Principal, kind: ResourceKind, resourceId: number): Promise<Permission> {
  if (p.kind === 'open' || (p.kind === 'user' && p.isAdmin)) return 'MANAGE';
  if (p.kind !== 'user') return 'NO_PERMISSIONS';
  // A user's own row wins (a deliberate per-user decision), then what their teams give them (the
  // owning team's role, or a share with one of their teams; docs/teams.md), then the default.
  const own = await explicitPermission(deps, kind, resourceId, p.id);
  if (own) return own;
  const viaTeam = await teamPermission(deps.db, kind, resourceId, p.id);
  return viaTeam ?? deps.config.auth.defaultPermission;
}

/**
 * A predicate over resource ids for filtering search results: one query for all of the caller's
 * rows, then the default for the rest.
 */
export async function readablePredicate(deps: Deps, p: Principal, kind: ResourceKind): Promise<(id: number) => boolean> {
  if (p.kind === 'open' || (p.kind === 'user' && p.isAdmin)) return () => true;
  if (p.kind !== 'user') return () => false;
  const { table, column } = TABLES[kind];
  const found = await rows<{ id: number | string; permission: string }>(deps.db, sql`select ${column} as id, permission from ${table} where user_id = ${p.id}`);
  const explicit = new Map<number, string>(await teamPermissions(deps.db, kind, p.id));
  for (const r of found) explicit.set(Number(r.id), r.permission);
  const byDefault = deps.config.auth.defaultPermission !== 'NO_PERMISSIONS';
  return (id) => {
    const perm = explicit.get(id);
    return perm === undefined ? byDefault : perm !== 'NO_PERMISSIONS';
  };
}

export async function setPermission(
  deps: Deps,
  kind: ResourceKind,
  resourceId: number,
  username: string,
  permission: unknown,
  mode: 'create' | 'update' | 'upsert',
): Promise<{ userId: number; permission: Permission }> {
  const perm = parsePermission(permission);
  const user = await getUser(deps, username);
  const { table, column } = TABLES[kind];
  if (mode === 'create') {
    const made = await rows(deps.db, sql`insert into ${table} (${column}, user_id, permission) values (${resourceId}, ${user.id}, ${perm}) on conflict do nothing returning user_id`);
    if (!made.length) throw alreadyExists(`Permission for ${kind} ${resourceId} and user ${username} already exists.`);
  } else if (mode === 'update') {
    const changed = await rows(deps.db, sql`update ${table} set permission = ${perm} where ${column} = ${resourceId} and user_id = ${user.id} returning user_id`);
    if (!changed.length) throw notFound(`Permission for ${kind} ${resourceId} and user ${username} not found.`);
  } else {
    await deps.db.execute(sql`insert into ${table} (${column}, user_id, permission) values (${resourceId}, ${user.id}, ${perm})
                              on conflict (${column}, user_id) do update set permission = excluded.permission`);
  }
  return { userId: user.id, permission: perm };
}

export async function getPermissionRow(deps: Deps, kind: ResourceKind, resourceId: number, username: string): Promise<{ userId: number; permission: Permission }> {
  const user = await getUser(deps, username);
  const perm = await explicitPermission(deps, kind, resourceId, user.id);
  if (!perm) throw notFound(`Permission for ${kind} ${resourceId} and user ${username} not found.`);
  return { userId: user.id, permission: perm };
}

export async function deletePermission(deps: Deps, kind: ResourceKind, resourceId: number, username: string, missingOk = false): Promise<void> {
  const user = await getUser(deps, username);
  const { table, column } = TABLES[kind];
  const gone = await rows(deps.db, sql`delete from ${table} where ${column} = ${resourceId} and user_id = ${user.id} returning user_id`);
  if (!gone.length && !missingOk) throw notFound(`Permission for ${kind} ${resourceId} and user ${username} not found.`);
}

/** The creator of an experiment or registered model gets MANAGE on it, as in MLflow. */
export async function grantCreator(deps: Deps, p: Principal, kind: ResourceKind, resourceId: number): Promise<void> {
  if (p.kind !== 'user') return;
  const { table, column } = TABLES[kind];
  await deps.db.execute(sql`insert into ${table} (${column}, user_id, permission) values (${resourceId}, ${p.id}, 'MANAGE')
                            on conflict (${column}, user_id) do update set permission = 'MANAGE'`);
}

export function parseResourceKind(value: unknown): ResourceKind {
  if (value === 'experiment' || value === 'registered_model') return value;
  throw invalidParam(`Unsupported resource_type '${String(value).slice(0, 40)}': Cairn supports 'experiment' and 'registered_model'`);
}
