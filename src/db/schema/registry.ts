import { bigint, boolean, foreignKey, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

// The model registry. Registered models carry a surrogate id so that a rename is one row update, and
// `last_version`, the counter new versions are allocated from: incrementing it takes the row lock,
// which serialises concurrent registrations of one model and makes versions gap-free (a failed
// transaction rolls the counter back with everything else).
export const registeredModels = pgTable('registered_models', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  name: text('name').notNull().unique(),
  creationTime: bigint('creation_time', { mode: 'number' }).notNull(),
  lastUpdatedTime: bigint('last_updated_time', { mode: 'number' }).notNull(),
  description: text('description'),
  userId: text('user_id'),
  deploymentJobId: text('deployment_job_id'),
  lastVersion: bigint('last_version', { mode: 'number' }).notNull().default(0),
});

export const registeredModelTags = pgTable(
  'registered_model_tags',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.registeredModelId, t.key] }), index('registered_model_tags_key_idx').on(t.key)],
);

// Deleted versions stay as redacted rows (`deleted`), as in MLflow, so their numbers are never reused.
export const modelVersions = pgTable(
  'model_versions',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    version: bigint('version', { mode: 'number' }).notNull(),
    creationTime: bigint('creation_time', { mode: 'number' }).notNull(),
    lastUpdatedTime: bigint('last_updated_time', { mode: 'number' }).notNull(),
    description: text('description'),
    userId: text('user_id'),
    currentStage: text('current_stage').notNull().default('None'),
    source: text('source').notNull(),
    storageLocation: text('storage_location'),
    runId: text('run_id'),
    runLink: text('run_link'),
    status: text('status').notNull().default('READY'),
    statusMessage: text('status_message'),
    modelId: text('model_id'),
    deleted: boolean('deleted').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.registeredModelId, t.version] }),
    index('model_versions_last_updated_idx').on(t.lastUpdatedTime),
    index('model_versions_run_id_idx').on(t.runId),
  ],
);

export const modelVersionTags = pgTable(
  'model_version_tags',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' }).notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.registeredModelId, t.version, t.key] }),
    index('model_version_tags_key_idx').on(t.key),
    foreignKey({
      name: 'model_version_tags_version_fk',
      columns: [t.registeredModelId, t.version],
      foreignColumns: [modelVersions.registeredModelId, modelVersions.version],
    }).onDelete('cascade'),
  ],
);

export const registeredModelAliases = pgTable(
  'registered_model_aliases',
  {
    registeredModelId: bigint('registered_model_id', { mode: 'number' })
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    alias: text('alias').notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.registeredModelId, t.alias] })],
);
