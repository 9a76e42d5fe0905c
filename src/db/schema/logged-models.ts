import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';

// MLflow 3 logged models. Their metrics are not stored here: they are the rows of `metrics` logged
// with this model_id (see the metrics_model_id_idx migration).
export const loggedModels = pgTable(
  'logged_models',
  {
    modelId: text('model_id').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId),
    name: text('name').notNull(),
    artifactLocation: text('artifact_location').notNull(),
    creationTimestampMs: bigint('creation_timestamp_ms', { mode: 'number' }).notNull(),
    lastUpdatedTimestampMs: bigint('last_updated_timestamp_ms', { mode: 'number' }).notNull(),
    /** PENDING | READY | FAILED | UNSPECIFIED (LoggedModelStatus without its proto prefix). */
    status: text('status').notNull(),
    lifecycleStage: text('lifecycle_stage').notNull().default('active'),
    modelType: text('model_type'),
    sourceRunId: text('source_run_id'),
    statusMessage: text('status_message'),
  },
  // search_logged_models' natural order is creation_timestamp DESC, model_id ASC within experiments.
  (t) => [
    index('logged_models_experiment_created_idx').on(t.experimentId, t.creationTimestampMs.desc(), t.modelId),
    index('logged_models_source_run_idx').on(t.sourceRunId),
  ],
);

export const loggedModelParams = pgTable(
  'logged_model_params',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] }), index('logged_model_params_key_idx').on(t.key)],
);

export const loggedModelTags = pgTable(
  'logged_model_tags',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.key] }), index('logged_model_tags_key_idx').on(t.key)],
);
