import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { findProject } from './projects.js';

/** One row of wandb_runs joined with the MLflow run it mirrors. */
export interface WandbRunRow {
  run_id: string;
  experiment_id: number;
  name: string;
  entity: string;
  project: string;
  display_name: string | null;
  group_name: string | null;
  job_type: string | null;
  notes: string | null;
  host: string | null;
  program: string | null;
  commit: string | null;
  repo: string | null;
  sweep: string | null;
  tags: string;
  config: string | null;
  summary: string;
  state: string;
  exit_code: number | null;
  history_keys: string;
  history_line_count: number;
  events_line_count: number;
  log_line_count: number;
  last_step: number | null;
  last_timestamp: number | null;
  user_name: string;
  created_at: number;
  heartbeat_at: number;
  /** From `runs`. */
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

export const WANDB_RUN_COLUMNS = sql`w.run_id, w.experiment_id, w.name, w.entity, w.project, w.display_name, w.group_name, w.job_type,
  w.notes, w.host, w.program, w.commit, w.repo, w.sweep, w.tags, w.config, w.summary, w.state, w.exit_code, w.history_keys,
  w.history_line_count, w.events_line_count, w.log_line_count, w.last_step, w.last_timestamp, w.user_name, w.created_at,
  w.heartbeat_at, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri`;

// node-postgres returns bigint as strings, PGlite as numbers.
export function normalizeRunRow(r: WandbRunRow): WandbRunRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...r,
    experiment_id: Number(r.experiment_id),
    last_step: num(r.last_step),
    last_timestamp: num(r.last_timestamp),
    created_at: Number(r.created_at),
    heartbeat_at: Number(r.heartbeat_at),
    start_time: num(r.start_time),
    end_time: num(r.end_time),
  };
}

export async function selectRuns(db: Orm, where: ReturnType<typeof sql>, lock = false): Promise<WandbRunRow[]> {
  const found = await rows<WandbRunRow>(
    db,
    sql`select ${WANDB_RUN_COLUMNS} from wandb_runs w join runs r on r.run_id = w.run_id where ${where}${lock ? sql` for update of w` : sql``}`,
  );
  return found.map(normalizeRunRow);
}

export async function runByName(db: Orm, experimentId: number, name: string, lock = false): Promise<WandbRunRow | undefined> {
  return (await selectRuns(db, sql`w.experiment_id = ${experimentId} and w.name = ${name}`, lock))[0];
}

export async function runById(db: Orm, runId: string, lock = false): Promise<WandbRunRow | undefined> {
  return (await selectRuns(db, sql`w.run_id = ${runId}`, lock))[0];
}

/** The W&B run `<project>/<name>`; deleted MLflow runs are not found. */
export async function findRun(deps: Deps, project: string, name: string, entity?: string): Promise<WandbRunRow | undefined> {
  const p = await findProject(deps, project, entity);
  if (!p) return undefined;
  const run = await runByName(deps.db, p.experimentId, name);
  return run && run.lifecycle_stage === 'active' ? run : undefined;
}

export async function requireRun(deps: Deps, project: string, name: string, entity?: string): Promise<WandbRunRow> {
  const run = await findRun(deps, project, name, entity);
  if (!run) throw notFound(`Run ${project}/${name} not found`);
  return run;
}

// W&B's storage ids are opaque base64; ours carry the MLflow run id.
export const storageId = (runId: string) => Buffer.from(`Run:v1:${runId}`).toString('base64');

export function runIdFromStorageId(id: string): string | undefined {
  const text = Buffer.from(id, 'base64').toString('utf8');
  return text.startsWith('Run:v1:') ? text.slice('Run:v1:'.length) : undefined;
}

/** A run's W&B state; a running run whose client fell silent is reported crashed, as W&B does. */
export const CRASH_AFTER_MS = 10 * 60_000;
export function wandbState(run: WandbRunRow, now: number): string {
  if (run.state === 'running' && now - run.heartbeat_at > CRASH_AFTER_MS) return 'crashed';
  return run.state;
}
