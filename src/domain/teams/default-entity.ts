import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { getUser } from '../../auth/accounts.js';
import { invalidParam } from '../../errors.js';
import { findTeam, roleIn } from './teams.js';

// A user's default W&B entity (W&B's `viewer.entity`, docs/teams.md#default-entity): where
// wandb.init() logs when neither `entity=` nor WANDB_ENTITY names one. Their own name unless they
// chose one of their teams.

/** The entity a user's runs go to by default. */
export async function defaultEntityOf(db: Orm, username: string): Promise<string> {
  const found = await rows<{ entity: string }>(db, sql`select coalesce(default_entity, username) as entity from users where username = ${username}`);
  return found[0]?.entity ?? username;
}

/**
 * Sets it to `entity` (null or the user's own name resets it). A team must be one the user may
 * log into (member or admin): a default that refuses every run helps nobody.
 */
export async function setDefaultEntity(deps: Deps, username: string, entity: string | null | undefined): Promise<string> {
  const user = await getUser(deps, username);
  const wanted = entity && entity !== user.username ? entity : null;
  if (wanted !== null) {
    const team = await findTeam(deps.db, wanted);
    const role = team ? await roleIn(deps.db, team.id, user.id) : undefined;
    if (!team || !role) throw invalidParam(`'${wanted.slice(0, 80)}' is neither your username nor a team you belong to`);
    if (role === 'viewer') throw invalidParam(`You are a viewer of team '${team.name}': only its members and admins log into it`);
  }
  await deps.db.execute(sql`update users set default_entity = ${wanted} where id = ${user.id}`);
  return wanted ?? user.username;
}
