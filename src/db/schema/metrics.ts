import { bigint, doublePrecision, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

// Metric history is append-only. The primary key makes a replayed point a no-op (clients retry),
// and doubles as the keyset index for reading one metric's history in (step, timestamp) order.
// No foreign key to runs: the run is checked once per request, not once per point.
export const metrics = pgTable(
  'metrics',
  {
    runId: text('run_id').notNull(),
    key: text('key').notNull(),
    step: bigint('step', { mode: 'number' }).notNull(),
    timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
    value: doublePrecision('value').notNull(),
    modelId: text('model_id'),
    datasetName: text('dataset_name'),
    datasetDigest: text('dataset_digest'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key, t.step, t.timestamp, t.value] })],
);

// One row per (run, key): the point with the greatest (step, timestamp, value), maintained in the
// same transaction as the insert so search_runs filters and sorts without touching the history.
// min_value/max_value are the least and greatest value of the whole history, NaN left out ('NaN'
// when every point is NaN), kept in the same statement: the UI's runs table shows and sorts by them.
export const latestMetrics = pgTable(
  'latest_metrics',
  {
    runId: text('run_id').notNull(),
    key: text('key').notNull(),
    step: bigint('step', { mode: 'number' }).notNull(),
    timestamp: bigint('timestamp', { mode: 'number' }).notNull(),
    value: doublePrecision('value').notNull(),
    minValue: doublePrecision('min_value'),
    maxValue: doublePrecision('max_value'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index('latest_metrics_key_value_idx').on(t.key, t.value)],
);
