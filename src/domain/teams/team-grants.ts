import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { RANK, type Permission } from '../../auth/permissions.js';
import { getTeam, ROLE_PERMISSION, type Role } from './teams.js';

// What teams give their members on experiments and registered models (docs/teams.md): the
// team that owns a resource gives each member their role's permission; a resource shared with a
// team gives each member the shared level, capped by their role (a viewer of the grantee team
// still only reads). Of several, the highest wins. Tables and columns come from this closed map.

export type TeamResourceKind = 'experiment' | 'registered_model';

const TABLES = {
  experiment: { owned: sql.raw('team_experiments'), shares: sql.raw('team_experiment_shares'), column: sql.raw('experiment_id') },
  registered_model: { owned: sql.raw('team_models'), shares: sql.raw('team_model_shares'), column: sql.raw('registered_model_id') },
} as const;

const lower = (a: Permission, b: Permission) => (RANK[a] <= RANK[b] ? a : b);
const higher = (a: Permission | undefined, b: Permission) => (a === undefined || RANK[b] > RANK[a] ? b : a);

/** The levels a resource can be shared at: a share grants, it never takes away. */
export const SHARE_LEVELS = ['READ', 'EDIT', 'MANAGE'] as const;
export type ShareLevel = (typeof SHARE_LEVELS)[number];

export function parseShareLevel(value: unknown): ShareLevel {
  if (typeof value === 'string' && (SHARE_LEVELS as readonly string[]).includes(value)) return value as ShareLevel;
  throw invalidParam(`Invalid share level '${String(value).slice(0, 40)}'. Valid levels are: ${SHARE_LEVELS.join(', ')}`);
}

type Grant = { id: number | string; role: Role; shared: Permission | null };

function teamGrantsQuery(kind: TeamResourceKind, userId: number, resourceId?: number) {
  const { owned, shares, column } = TABLES[kind];
  const one = (alias: string) => (resourceId === undefined ? sql`` : sql` and ${sql.raw(alias)}.${column} = ${resourceId}`);
  return sql`select o.${column} as id, m.role, null as shared from ${owned} o join team_members m on m.team_id = o.team_id
             where m.user_id = ${userId}${one('o')}
             union all
             select s.${column} as id, m.role, s.permission as shared from ${shares} s join team_members m on m.team_id = s.team_id
             where m.user_id = ${userId}${one('s')}`;
}

function fold(found: Grant[]): Map<number, Permission> {
  const out = new Map<number, Permission>();
  for (const g of found) {
    const byRole = ROLE_PERMISSION[g.role];
    const perm = g.shared === null ? byRole : lower(g.shared, byRole);
    out.set(Number(g.id), higher(out.get(Number(g.id)), perm));
  }
  return out;
}

/** The permission `userId`'s teams give them on one resource, if any. */
export async function teamPermission(db: Orm, kind: TeamResourceKind, resourceId: number, userId: number): Promise<Permission | undefined> {
  return fold(await rows<Grant>(db, teamGrantsQuery(kind, userId, resourceId))).get(resourceId);
}

/** Every resource of a kind `userId`'s teams give them a permission on (for filtering search results). */
export async function teamPermissions(db: Orm, kind: TeamResourceKind, userId: number): Promise<Map<number, Permission>> {
  return fold(await rows<Grant>(db, teamGrantsQuery(kind, userId)));
}

/** Records that a team owns a resource (a project first logged to as the team, a model created with `cairn.team`). */
export async function assignToTeam(db: Orm, kind: TeamResourceKind, teamId: number, resourceId: number): Promise<void> {
  const { owned, column } = TABLES[kind];
  await db.execute(sql`insert into ${owned} (${column}, team_id) values (${resourceId}, ${teamId}) on conflict do nothing`);
}

/** Shares a resource with a team at a level, or changes the level of an existing share. */
export async function shareWithTeam(deps: Deps, kind: TeamResourceKind, resourceId: number, teamName: string, level: unknown): Promise<ShareLevel> {
  const perm = parseShareLevel(level);
  const team = await getTeam(deps, teamName);
  const { shares, column } = TABLES[kind];
  await deps.db.execute(sql`insert into ${shares} (team_id, ${column}, permission) values (${team.id}, ${resourceId}, ${perm})
                            on conflict (team_id, ${column}) do update set permission = excluded.permission`);
  return perm;
}

/** Ends a team's share; false when there was none. */
export async function unshareWithTeam(deps: Deps, kind: TeamResourceKind, resourceId: number, teamName: string): Promise<boolean> {
  const team = await getTeam(deps, teamName);
  const { shares, column } = TABLES[kind];
  return (await rows(deps.db, sql`delete from ${shares} where team_id = ${team.id} and ${column} = ${resourceId} returning team_id`)).length > 0;
}
