import { bigint, index, integer, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';
import { users } from './auth.js';
import { runs } from './runs.js';

// The W&B wire protocol's own state. A W&B run IS an MLflow run (a row of `runs`, its config in
// `params`, its numeric history in `metrics`); these tables hold what MLflow has no place for: the
// run's W&B identity and raw config/summary, and the file_stream lines by offset, which is what
// makes retried and replayed posts change nothing.

/**
 * API keys: the wandb client's WANDB_API_KEY and the mlflow client's MLFLOW_TRACKING_TOKEN. Only a
 * SHA-256 of each key is stored (a key is 160 random bits: no slow hash needed).
 */
export const wandbApiKeys = pgTable('wandb_api_keys', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  keyHash: text('key_hash').notNull().unique(),
  /** The first characters of the key, to tell keys apart in listings. */
  keyPrefix: text('key_prefix').notNull(),
  /** The account (and W&B default entity) the key logs in as; deleting the account ends its keys. */
  userName: text('user_name')
    .notNull()
    .references(() => users.username, { onDelete: 'cascade', onUpdate: 'cascade' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  revokedAt: bigint('revoked_at', { mode: 'number' }),
});

/** Server-side secrets shared by every Cairn process (the upload-URL signing key). */
export const wandbSecrets = pgTable('wandb_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

export const wandbRuns = pgTable(
  'wandb_runs',
  {
    runId: text('run_id')
      .primaryKey()
      .references(() => runs.runId, { onDelete: 'cascade' }),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    /** The W&B run id (the `name` of the W&B "bucket"): unique within a project. */
    name: text('name').notNull(),
    entity: text('entity').notNull(),
    project: text('project').notNull(),
    displayName: text('display_name'),
    groupName: text('group_name'),
    jobType: text('job_type'),
    notes: text('notes'),
    host: text('host'),
    program: text('program'),
    commit: text('commit'),
    repo: text('repo'),
    sweep: text('sweep'),
    /** JSON array of strings. */
    tags: text('tags').notNull().default('[]'),
    /** The config exactly as the client last sent it (`{"key":{"value":…}}`, NaN tokens and all). */
    config: text('config'),
    /** The whole summary as the client last sent it. */
    summary: text('summary').notNull().default('{}'),
    /** running | finished | failed | crashed (crashed is also inferred from a stale heartbeat). */
    state: text('state').notNull().default('running'),
    exitCode: integer('exit_code'),
    /** JSON: {key: {type: count}} over the history lines, for `historyKeys`. */
    historyKeys: text('history_keys').notNull().default('{}'),
    historyLineCount: integer('history_line_count').notNull().default(0),
    eventsLineCount: integer('events_line_count').notNull().default(0),
    logLineCount: integer('log_line_count').notNull().default(0),
    lastStep: bigint('last_step', { mode: 'number' }),
    /** Latest `_timestamp` seen in any line, in ms: the end time of a synced run. */
    lastTimestamp: bigint('last_timestamp', { mode: 'number' }),
    userName: text('user_name').notNull().default(''),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    heartbeatAt: bigint('heartbeat_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    unique('wandb_runs_experiment_name').on(t.experimentId, t.name),
    index('wandb_runs_experiment_created_idx').on(t.experimentId, t.createdAt),
  ],
);

/** wandb-history.jsonl, one row per line number; `step` is the line's `_step`. */
export const wandbHistory = pgTable(
  'wandb_history',
  {
    runId: text('run_id')
      .notNull()
      .references(() => wandbRuns.runId, { onDelete: 'cascade' }),
    lineNo: integer('line_no').notNull(),
    step: bigint('step', { mode: 'number' }),
    content: text('content').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.lineNo] }), index('wandb_history_run_step_idx').on(t.runId, t.step)],
);

/** wandb-events.jsonl ('events') and output.log ('output') lines by line number. */
export const wandbLines = pgTable(
  'wandb_lines',
  {
    runId: text('run_id')
      .notNull()
      .references(() => wandbRuns.runId, { onDelete: 'cascade' }),
    stream: text('stream').notNull(),
    lineNo: integer('line_no').notNull(),
    content: text('content').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stream, t.lineNo] })],
);

/** Run files uploaded through the presigned URLs; the bytes are run artifacts in the blob store. */
export const wandbFiles = pgTable(
  'wandb_files',
  {
    runId: text('run_id')
      .notNull()
      .references(() => wandbRuns.runId, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** Base64 MD5 of the bytes, as W&B reports a file's `md5` (null for files uploaded before 0005). */
    md5: text('md5'),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.path] })],
);
