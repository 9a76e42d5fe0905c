import { bigint, index, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';

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
  // By name and by digest alone: search_runs' `datasets.name = ...` / `datasets.digest IN (...)` look
  // datasets up across experiments, then their inputs (run_dataset_inputs_dataset_run_idx).
  (t) => [
    unique('datasets_experiment_name_digest').on(t.experimentId, t.name, t.digest),
    index('datasets_name_idx').on(t.name),
    index('datasets_digest_idx').on(t.digest),
  ],
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
  // The inputs of a dataset: a dataset filter's matching runs without reading every input (100k runs,
  // `datasets.name = 'ds-1'`: the count and the hashed IN each scanned all 10k inputs, 2-6 ms). The
  // run id in the index lets those read the index alone (the 2,000 inputs of ds-1: 0.6 ms of heap).
  (t) => [primaryKey({ columns: [t.runId, t.datasetId] }), index('run_dataset_inputs_dataset_run_idx').on(t.datasetId, t.runId)],
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
