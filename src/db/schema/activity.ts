import { bigint, index, pgTable, text } from 'drizzle-orm/pg-core';
import { runs } from './runs.js';

/**
 * Who did what to a run, and when (docs/teams.md#activity): `created`, `tags`, `notes`, `stage`
 * (deleted or restored), `moved` (to another experiment; detail: the one it left). `username` is
 * null when nobody is known (accounts off and an MLflow call).
 * Kept apart from the run's tags so that MLflow's and W&B's views of a run stay exactly theirs.
 */
export const runActivity = pgTable(
  'run_activity',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.runId, { onDelete: 'cascade' }),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    username: text('username'),
    detail: text('detail'),
    at: bigint('at', { mode: 'number' }).notNull(),
  },
  (t) => [index('run_activity_run_idx').on(t.runId, t.at), index('run_activity_experiment_idx').on(t.experimentId, t.at)],
);
