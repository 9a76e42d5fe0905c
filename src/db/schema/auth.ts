import { bigint, boolean, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';
import { registeredModels } from './registry.js';

// Accounts and permissions (`--app-name basic-auth`): one set of users for the MLflow and W&B
// clients. A W&B project is an experiment, so experiment permissions cover both.

/**
 * A user. `password_hash` is `scrypt$N$r$p$salt$hash`; null for an account that only logs in with
 * API keys (the W&B key owners from before accounts existed become such accounts).
 */
export const users = pgTable('users', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  username: text('username').notNull().unique(),
  passwordHash: text('password_hash'),
  isAdmin: boolean('is_admin').notNull().default(false),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  /**
   * The W&B entity runs go to when the client names none (W&B's `viewer.entity`): the user's own
   * name when null, else one of their teams (docs/teams.md#default-entity).
   */
  defaultEntity: text('default_entity'),
});

/** READ | EDIT | MANAGE | NO_PERMISSIONS of one user on one experiment (absent: the default). */
export const experimentPermissions = pgTable(
  'experiment_permissions',
  {
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    permission: text('permission').notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.userId] }), index('experiment_permissions_user_idx').on(t.userId)],
);

/** The same for registered models (and prompts), by surrogate id so a rename keeps them. */
export const registeredModelPermissions = pgTable(
  'registered_model_permissions',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    permission: text('permission').notNull(),
  },
  (t) => [primaryKey({ columns: [t.registeredModelId, t.userId] }), index('registered_model_permissions_user_idx').on(t.userId)],
);
