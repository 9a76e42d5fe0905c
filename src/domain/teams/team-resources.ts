import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { TeamResourceKind } from './team-grants.js';

// What a team page shows (docs/teams.md#the-team-page): the projects and models a team owns, what
// other teams or users they are shared with, and what is shared with the team. Read-only; who may
// see it is decided by the route.

export interface OwnedResource {
  resource_type: TeamResourceKind;
  /** The experiment's id, or the registered model's name (as the share endpoints take it). */
  resource_id: string;
  name: string;
}

export interface SharedResource extends OwnedResource {
  permission: string;
}

export interface Share {
  team?: string;
  username?: string;
  permission: string;
}

type Raw = { kind: TeamResourceKind; id: string; name: string; permission?: string };

/** The team's own active experiments and registered models, by name. */
export async function ownedBy(db: Orm, teamId: number): Promise<OwnedResource[]> {
  const found = await rows<Raw>(
    db,
    sql`select 'experiment' as kind, e.experiment_id::text as id, e.name from team_experiments o
          join experiments e on e.experiment_id = o.experiment_id where o.team_id = ${teamId} and e.lifecycle_stage = 'active'
        union all
        select 'registered_model' as kind, m.name as id, m.name from team_models o
          join registered_models m on m.id = o.registered_model_id where o.team_id = ${teamId}
        order by kind, name`,
  );
  return found.map((r) => ({ resource_type: r.kind, resource_id: String(r.id), name: r.name }));
}

/** The experiments and models other owners shared with the team, at their level. */
export async function sharedWith(db: Orm, teamId: number): Promise<SharedResource[]> {
  const found = await rows<Raw>(
    db,
    sql`select 'experiment' as kind, e.experiment_id::text as id, e.name, s.permission from team_experiment_shares s
          join experiments e on e.experiment_id = s.experiment_id where s.team_id = ${teamId} and e.lifecycle_stage = 'active'
        union all
        select 'registered_model' as kind, m.name as id, m.name, s.permission from team_model_shares s
          join registered_models m on m.id = s.registered_model_id where s.team_id = ${teamId}
        order by kind, name`,
  );
  return found.map((r) => ({ resource_type: r.kind, resource_id: String(r.id), name: r.name, permission: r.permission! }));
}

const SHARE_TABLES = {
  experiment: { teams: sql.raw('team_experiment_shares'), users: sql.raw('experiment_permissions'), column: sql.raw('experiment_id') },
  registered_model: { teams: sql.raw('team_model_shares'), users: sql.raw('registered_model_permissions'), column: sql.raw('registered_model_id') },
} as const;

/**
 * Who a resource is shared with: each team share, and each user's own permission row (a user
 * share, a grant with MLflow's API, or the creator's MANAGE — all the same row, docs/teams.md).
 */
export async function sharesOf(db: Orm, kind: TeamResourceKind, resourceId: number): Promise<Share[]> {
  const { teams, users, column } = SHARE_TABLES[kind];
  const found = await rows<{ team: string | null; username: string | null; permission: string }>(
    db,
    sql`select t.name as team, null as username, s.permission from ${teams} s join teams t on t.id = s.team_id where s.${column} = ${resourceId}
        union all
        select null as team, u.username, p.permission from ${users} p join users u on u.id = p.user_id where p.${column} = ${resourceId}
        order by team nulls last, username`,
  );
  return found.map((r) => (r.team !== null ? { team: r.team, permission: r.permission } : { username: r.username!, permission: r.permission }));
}
