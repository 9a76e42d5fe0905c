import { bigint, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';

// MLflow 3 GenAI evaluation datasets and registered scorers. JSON payloads (dataset schema and
// profile, record inputs/outputs/expectations/tags/source) are kept as text, not jsonb: jsonb
// reorders object keys, and the client reads records back with their keys in the order it wrote them.

export const evaluationDatasets = pgTable('evaluation_datasets', {
  datasetId: text('dataset_id').primaryKey(),
  name: text('name').notNull(),
  digest: text('digest').notNull(),
  /** JSON text, computed from the records merged in; null before the first merge. */
  schema: text('schema'),
  profile: text('profile'),
  createdTime: bigint('created_time', { mode: 'number' }).notNull(),
  lastUpdateTime: bigint('last_update_time', { mode: 'number' }).notNull(),
  createdBy: text('created_by'),
  lastUpdatedBy: text('last_updated_by'),
});

export const evaluationDatasetTags = pgTable(
  'evaluation_dataset_tags',
  {
    datasetId: text('dataset_id')
      .notNull()
      .references(() => evaluationDatasets.datasetId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.datasetId, t.key] })],
);

/** A dataset's links to experiments; permissions on the dataset follow these experiments. */
export const evaluationDatasetExperiments = pgTable(
  'evaluation_dataset_experiments',
  {
    datasetId: text('dataset_id')
      .notNull()
      .references(() => evaluationDatasets.datasetId, { onDelete: 'cascade' }),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
  },
  // The second index serves search_datasets(experiment_ids=…).
  (t) => [primaryKey({ columns: [t.datasetId, t.experimentId] }), index('evaluation_dataset_experiments_exp_idx').on(t.experimentId)],
);

export const evaluationDatasetRecords = pgTable(
  'evaluation_dataset_records',
  {
    datasetRecordId: text('dataset_record_id').primaryKey(),
    datasetId: text('dataset_id')
      .notNull()
      .references(() => evaluationDatasets.datasetId, { onDelete: 'cascade' }),
    /** sha256 of the inputs with sorted keys: merging a record with the same inputs updates it. */
    inputHash: text('input_hash').notNull(),
    inputs: text('inputs').notNull(),
    outputs: text('outputs'),
    expectations: text('expectations'),
    tags: text('tags'),
    source: text('source'),
    sourceId: text('source_id'),
    sourceType: text('source_type'),
    createdTime: bigint('created_time', { mode: 'number' }).notNull(),
    lastUpdateTime: bigint('last_update_time', { mode: 'number' }).notNull(),
    createdBy: text('created_by'),
    lastUpdatedBy: text('last_updated_by'),
  },
  // Records are read in (created_time, id) order with a cursor on both.
  (t) => [
    uniqueIndex('evaluation_dataset_records_input_idx').on(t.datasetId, t.inputHash),
    index('evaluation_dataset_records_order_idx').on(t.datasetId, t.createdTime, t.datasetRecordId),
  ],
);

export const scorers = pgTable(
  'scorers',
  {
    scorerId: text('scorer_id').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    name: text('scorer_name').notNull(),
  },
  (t) => [uniqueIndex('scorers_experiment_name_idx').on(t.experimentId, t.name)],
);

export const scorerVersions = pgTable(
  'scorer_versions',
  {
    scorerId: text('scorer_id')
      .notNull()
      .references(() => scorers.scorerId, { onDelete: 'cascade' }),
    version: integer('scorer_version').notNull(),
    serializedScorer: text('serialized_scorer').notNull(),
    creationTime: bigint('creation_time', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.scorerId, t.version] })],
);
