import { bigint, boolean, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

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
    // True when metric_blocks holds this whole history: set on the row's first write. Rows from before
    // the summary table are false until the chart endpoint builds their blocks (src/domain/ui/metric-blocks.ts).
    blocksReady: boolean('blocks_ready').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index('latest_metrics_key_value_idx').on(t.key, t.value)],
);

// A summary of each fixed block of METRIC_BLOCK_STEPS steps of one history (block = floor(step / 32)):
// point count, least and greatest value (NaN left out; null when the block holds only NaN) and its
// last point in (step, timestamp, value) order. Kept by the statement that inserts the points, from
// the rows it really inserted (a replay adds nothing), so a chart of 1,000,000 points reads ~31,000
// summaries plus the raw points at its columns' edges instead of every point.
export const metricBlocks = pgTable(
  'metric_blocks',
  {
    runId: text('run_id').notNull(),
    key: text('key').notNull(),
    block: bigint('block', { mode: 'number' }).notNull(),
    count: integer('count').notNull(),
    minValue: doublePrecision('min_value'),
    maxValue: doublePrecision('max_value'),
    lastStep: bigint('last_step', { mode: 'number' }).notNull(),
    lastTimestamp: bigint('last_timestamp', { mode: 'number' }).notNull(),
    lastValue: doublePrecision('last_value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key, t.block] })],
);
