import { sql } from 'drizzle-orm';
import { bigint, customType, index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';

export const runs = pgTable(
  'runs',
  {
    runId: text('run_id').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId),
    name: text('name').notNull().default(''),
    userId: text('user_id').notNull().default(''),
    status: text('status').notNull().default('RUNNING'),
    startTime: bigint('start_time', { mode: 'number' }),
    endTime: bigint('end_time', { mode: 'number' }),
    artifactUri: text('artifact_uri').notNull(),
    lifecycleStage: text('lifecycle_stage').notNull().default('active'),
    deletedTime: bigint('deleted_time', { mode: 'number' }),
  },
  // search_runs' natural order is start_time DESC, run_id ASC within experiments and a stage.
  (t) => [
    index('runs_experiment_start_idx').on(t.experimentId, t.lifecycleStage, t.startTime.desc(), t.runId),
    // order by attributes.run_name (code-point order, then the natural order as tie-breakers): walked
    // forwards, or backwards with an incremental sort of each name's few runs, instead of sorting
    // every run of the experiment (100k runs: ~35 ms sorted, ~2 ms walked; docs/bench.md).
    index('runs_experiment_name_idx').on(t.experimentId, t.lifecycleStage, sql`${t.name} COLLATE "C"`, t.startTime.desc(), t.runId),
    // order by attributes.status and `attributes.status = ...` filters: a few values over every run,
    // so each value's runs in the natural order. ASC is walked as is; DESC one status at a time
    // (groupedIds), each walked forwards; a filter on a rare status reads only its runs (100k runs:
    // 65–150 ms sorted, ~2 ms walked; docs/bench.md). The cost: a status change is not a HOT update.
    index('runs_experiment_status_idx').on(t.experimentId, t.lifecycleStage, sql`${t.status} COLLATE "C"`, t.startTime.desc(), t.runId),
  ],
);

export const params = pgTable(
  'params',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.runId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  // The value in code-point order (COLLATE "C"), as the search compares and sorts it
  // (src/domain/search/runs-sql.ts): whatever the database's collation (C.UTF-8, en_US...), one index
  // then serves `=`, `LIKE 'prefix%'` and an ordering by the param that stops at the page.
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index('params_key_value_idx').on(t.key, sql`${t.value} COLLATE "C"`)],
);

export const runTags = pgTable(
  'run_tags',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.runId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key] }), index('run_tags_key_value_idx').on(t.key, sql`${t.value} COLLATE "C"`)],
);

const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });

/**
 * Each run as search_runs answers it (the JSON text of one entry of `runs`), kept so that a page of
 * runs read before is sent without rebuilding it: the hydration of a page of 100 runs costs Postgres
 * ~3 ms and Node ~1 ms, against ~0.2 ms to read these (docs/bench.md). Written only by readers
 * (src/domain/run-cache.ts); every write to a run's rows clears `body` through the triggers of
 * migration 0030 and records its transaction in `dirty_xid`, and a reader stores a body only when
 * that transaction is visible in the snapshot the body was read from, so a body is never older than
 * the run's last committed write.
 */
export const runJson = pgTable('run_json', {
  runId: text('run_id')
    .primaryKey()
    .references(() => runs.runId, { onDelete: 'cascade' }),
  body: text('body'),
  dirtyXid: xid8('dirty_xid'),
});
