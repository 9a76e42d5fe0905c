import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { experiments } from './experiments.js';
import { registeredModels } from './registry.js';

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

/**
 * The registered models a team owns: created with the `cairn.team` tag naming the team by one of
 * its members or admins (docs/teams.md). Its members get their role's permission on them.
 */
export const teamModels = pgTable(
  'team_models',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .primaryKey()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
  },
  (t) => [index('team_models_team_idx').on(t.teamId)],
);

/**
 * A project shared with a team at a chosen level (`cairn teams share`): each member of the team
 * gets that level, capped by their role (a viewer still only reads).
 */
export const teamExperimentShares = pgTable(
  'team_experiment_shares',
  {
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    permission: text('permission').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.experimentId] }), index('team_experiment_shares_experiment_idx').on(t.experimentId)],
);

/** A registered model shared with a team at a chosen level, as `teamExperimentShares`. */
export const teamModelShares = pgTable(
  'team_model_shares',
  {
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    permission: text('permission').notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.registeredModelId] }), index('team_model_shares_model_idx').on(t.registeredModelId)],
);
