import { bigint, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

export const experiments = pgTable(
  'experiments',
  {
    experimentId: bigint('experiment_id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity({ startWith: 1 }),
    name: text('name').notNull().unique(),
    artifactLocation: text('artifact_location').notNull(),
    lifecycleStage: text('lifecycle_stage').notNull().default('active'),
    creationTime: bigint('creation_time', { mode: 'number' }).notNull(),
    lastUpdateTime: bigint('last_update_time', { mode: 'number' }).notNull(),
  },
  (t) => [index('experiments_stage_created_idx').on(t.lifecycleStage, t.creationTime)],
);

export const experimentTags = pgTable(
  'experiment_tags',
  {
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.experimentId, t.key] }), index('experiment_tags_key_value_idx').on(t.key, t.value)],
);
