import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { experiments } from './experiments.js';

// Teams (docs/teams.md): a team is a W&B entity that several accounts log into. Its name shares
// the namespace of usernames (an entity is either), which createTeam enforces.

export const teams = pgTable('teams', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  name: text('name').notNull().unique(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** One account's role in one team: admin | member | viewer. */
export const teamMembers = pgTable(
  'team_members',
  {
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index('team_members_user_idx').on(t.userId)],
);

/**
 * The experiments a team owns (a project first logged to with the team as entity): its members
 * get their role's permission on them.
 */
export const teamExperiments = pgTable(
  'team_experiments',
  {
    experimentId: bigint('experiment_id', { mode: 'number' })
      .primaryKey()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
  },
  (t) => [index('team_experiments_team_idx').on(t.teamId)],
);
