import { sql } from 'drizzle-orm';
import { bigint, boolean, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { runs } from './runs.js';

// W&B sweeps with the parameter choice on the server. A sweep is also an MLflow parent run
// (`parentRunId`), so MLflow users see its trials nested under it.

export const wandbSweeps = pgTable(
  'wandb_sweeps',
  {
    /** The sweep id the client prints and passes around (8 characters of [a-z0-9]). */
    name: text('name').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    entity: text('entity').notNull(),
    project: text('project').notNull(),
    /** The YAML exactly as the client sent it: `api.sweep(...).config` parses it back. */
    configYaml: text('config_yaml').notNull(),
    /** The validated config as JSON, distributions filled in: what the domain samples from. */
    config: text('config').notNull(),
    method: text('method').notNull(),
    /** PENDING | RUNNING | PAUSED | FINISHED | CANCELED */
    state: text('state').notNull(),
    displayName: text('display_name'),
    description: text('description'),
    /**
     * A local controller's commands as it last sent them (`{schedule: [{id, data: {args}}],
     * earlystop: [run, ...]}`): only the client writes it.
     */
    controller: text('controller'),
    /** The server's answer to `controller`: `{scheduled: [{id, runid}]}`, schedule entries handed out. */
    scheduler: text('scheduler'),
    parentRunId: text('parent_run_id').references(() => runs.runId, { onDelete: 'set null' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('wandb_sweeps_experiment_idx').on(t.experimentId)],
);

export const wandbSweepAgents = pgTable('wandb_sweep_agents', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  sweep: text('sweep')
    .notNull()
    .references(() => wandbSweeps.name, { onDelete: 'cascade' }),
  host: text('host').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  heartbeatAt: bigint('heartbeat_at', { mode: 'number' }).notNull(),
});

/**
 * One row per suggestion handed to an agent. `gridKey` is unique per sweep while the trial holds
 * its grid point, so two agents can never get the same one; a trial given up for lost releases it
 * (`gridKey` set to null) and its parameters are handed out again.
 */
export const wandbSweepTrials = pgTable(
  'wandb_sweep_trials',
  {
    sweep: text('sweep')
      .notNull()
      .references(() => wandbSweeps.name, { onDelete: 'cascade' }),
    /** The W&B run id the agent starts the run with. */
    runName: text('run_name').notNull(),
    agentId: bigint('agent_id', { mode: 'number' }).notNull(),
    /** The suggestion as the agent gets it: `{name: {value: v}}`. */
    args: text('args').notNull(),
    gridKey: text('grid_key'),
    /** assigned | lost (handed out again) */
    state: text('state').notNull().default('assigned'),
    /** Reused parameters of this lost trial's run, for the trial that took them over. */
    retryOf: text('retry_of'),
    shouldStop: boolean('should_stop').notNull().default(false),
    stopReason: text('stop_reason'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('wandb_sweep_trials_run_idx').on(t.sweep, t.runName),
    uniqueIndex('wandb_sweep_trials_grid_idx').on(t.sweep, t.gridKey).where(sql`grid_key is not null`),
  ],
);
