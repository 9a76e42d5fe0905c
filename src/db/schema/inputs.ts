import { bigint, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';

export const datasets = pgTable(
  'datasets',
  {
    datasetId: text('dataset_id').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    digest: text('digest').notNull(),
    sourceType: text('source_type').notNull(),
    source: text('source').notNull(),
    schema: text('schema'),
    profile: text('profile'),
  },
  (t) => [unique('datasets_experiment_name_digest').on(t.experimentId, t.name, t.digest)],
);

export const runDatasetInputs = pgTable(
  'run_dataset_inputs',
  {
    runId: text('run_id').notNull(),
    datasetId: text('dataset_id').notNull(),
    // Input tags (e.g. mlflow.data.context) as a JSON array of {key, value}: read whole, never queried alone
    // except `context`, which has its own column for datasets.context filters.
    tags: text('tags').notNull().default('[]'),
    context: text('context'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.datasetId] })],
);

export const runModelInputs = pgTable(
  'run_model_inputs',
  { runId: text('run_id').notNull(), modelId: text('model_id').notNull() },
  (t) => [primaryKey({ columns: [t.runId, t.modelId] })],
);

export const runModelOutputs = pgTable(
  'run_model_outputs',
  {
    runId: text('run_id').notNull(),
    modelId: text('model_id').notNull(),
    step: bigint('step', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.modelId, t.step] })],
);
