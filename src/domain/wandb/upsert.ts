import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { randomRunName } from '../../lib/ids.js';
import { logBatch, type KeyValueInput } from '../run-logging.js';
import { activeExperimentRoot } from '../experiments.js';
import { insertRun, runTagValues, updateRun } from '../runs.js';
import type { WandbUser } from './api-keys.js';
import { syncConfigParams } from './config-params.js';
import { isPlainObject, parseWandbObject } from './json.js';
import { DEFAULT_PROJECT, ensureProject, validateWandbName } from './projects.js';
import { runById, runByName, runIdFromStorageId, type WandbRunRow } from './run-store.js';
import { applySummary } from './summary.js';
import { sweepLinkTags } from './sweeps-store.js';

/** UpsertBucket's input; `null` or absent means "unchanged". */
export interface UpsertRunInput {
  id?: string | null;
  name?: string | null;
  project?: string | null;
  entity?: string | null;
  groupName?: string | null;
  description?: string | null;
  displayName?: string | null;
  notes?: string | null;
  commit?: string | null;
  config?: string | null;
  host?: string | null;
  program?: string | null;
  repo?: string | null;
  jobType?: string | null;
  state?: string | null;
  sweep?: string | null;
  tags?: string[] | null;
  summaryMetrics?: string | null;
}

const MLFLOW_RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const STATES: Record<string, string> = { running: 'RUNNING', pending: 'SCHEDULED', finished: 'FINISHED', failed: 'FAILED', crashed: 'FAILED', killed: 'KILLED' };

/** A txDeps runs the tracking domain's functions inside our transaction (their own become savepoints). */
export const inTx = (deps: Deps, tx: Orm): Deps => ({ ...deps, db: tx });

/**
 * Creates or updates a W&B run and the MLflow run it is. Safe to retry: the same input leaves the
 * same rows. Run creation is serialised per (project, run name) with a transaction-scoped lock.
 */
export async function upsertWandbRun(
  deps: Deps,
  user: WandbUser,
  input: UpsertRunInput,
  /** Called with the project before anything is written (the caller's permission check). */
  beforeWrite?: (project: string, entity: string) => Promise<void>,
): Promise<{ run: WandbRunRow; inserted: boolean; projectCreated: boolean }> {
  let existing: WandbRunRow | undefined;
  if (input.id) {
    const runId = runIdFromStorageId(input.id);
    existing = runId ? await runById(deps.db, runId) : undefined;
    if (!existing && !input.name) throw notFound(`Run with id ${input.id} not found`);
  }
  const project = existing?.project ?? validateWandbName('project', input.project || DEFAULT_PROJECT);
  const name = existing?.name ?? validateWandbName('run', input.name || newWandbRunId());
  const entity = existing?.entity ?? validateWandbName('entity', input.entity || user.name);
  if (input.tags) input.tags.forEach((t) => checkText('tag', t, 256));
  const config = input.config ? parseWandbObject(input.config, 'config') : undefined;
  await beforeWrite?.(project, entity);
  const ensured = existing ? { experimentId: existing.experiment_id, created: false } : await ensureProject(deps, project, entity);
  const experimentId = ensured.experimentId;

  return deps.db.transaction(async (tx) => {
    const txDeps = inTx(deps, tx);
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`wandb-run:${experimentId}/${name}`}))`);
    let run = await runByName(tx, experimentId, name, true);
    const inserted = !run;
    if (!run) run = await createRun(txDeps, user, { experimentId, project, entity, name, displayName: input.displayName });
    if (run.lifecycle_stage !== 'active') throw invalidParam(`Run ${project}/${name} (MLflow run ${run.run_id}) is deleted`);

    const set = {
      display_name: input.displayName ?? run.display_name,
      group_name: input.groupName ?? run.group_name,
      job_type: input.jobType ?? run.job_type,
      notes: input.notes ?? input.description ?? run.notes,
      host: input.host ?? run.host,
      program: input.program ?? run.program,
      commit: input.commit ?? run.commit,
      repo: input.repo ?? run.repo,
      sweep: input.sweep ?? run.sweep,
      tags: input.tags ? JSON.stringify(input.tags) : run.tags,
      config: input.config ?? run.config,
    };
    await tx.execute(sql`update wandb_runs set display_name = ${set.display_name}, group_name = ${set.group_name},
      job_type = ${set.job_type}, notes = ${set.notes}, host = ${set.host}, program = ${set.program}, commit = ${set.commit},
      repo = ${set.repo}, sweep = ${set.sweep}, tags = ${set.tags}, config = ${set.config}, heartbeat_at = ${deps.now()}
      where run_id = ${run.run_id}`);
    await logBatch(txDeps, run.run_id, { tags: [...mlflowTags({ ...run, ...set }), ...(await sweepLinkTags(tx, experimentId, set.sweep))] });
    if (config) {
      await syncConfigParams(txDeps, run.run_id, config);
      await adoptClientStartTime(tx, run.run_id, config);
    }
    if (input.summaryMetrics) await applySummary(txDeps, run.run_id, input.summaryMetrics);
    if (input.state && STATES[input.state] && input.state !== run.state) {
      await tx.execute(sql`update wandb_runs set state = ${input.state} where run_id = ${run.run_id}`);
      await updateRun(txDeps, { run_id: run.run_id, status: STATES[input.state] });
    }
    return { run: (await runById(tx, run.run_id))!, inserted, projectCreated: ensured.created };
  });
}

function checkText(what: string, value: string, max: number): void {
  if (typeof value !== 'string' || value.length > max) throw invalidParam(`Invalid ${what}: at most ${max} characters`);
}

/** W&B's run ids: 8 characters of [a-z0-9]. */
export function newWandbRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('');
}

interface NewWandbRun {
  experimentId: number;
  project: string;
  entity: string;
  name: string;
  displayName?: string | null;
}

// The W&B run id is the MLflow run id whenever MLflow accepts it and no other run has it; otherwise
// (an id taken in another project, or with characters MLflow refuses) a deterministic derived id,
// recorded in the run's `wandb.run_id` tag.
function runIdCandidates(experimentId: number, name: string): string[] {
  const digest = createHash('sha256').update(`${experimentId}/${name}`).digest('hex');
  const safe = name.replace(/[^\w-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '').slice(0, 200);
  const derived = `${safe || 'wandb'}-${digest.slice(0, 12)}`;
  return [...(MLFLOW_RUN_ID.test(name) ? [name] : []), derived, digest.slice(0, 32)];
}

async function createRun(deps: Deps, user: WandbUser, r: NewWandbRun): Promise<WandbRunRow> {
  const tx = deps.db;
  const root = await activeExperimentRoot(tx, r.experimentId, String(r.experimentId), () => invalidParam(`Project '${r.project}' is deleted`));
  const now = deps.now();
  const displayName = r.displayName || randomRunName();
  const tags = runTagValues([
    { key: 'mlflow.user', value: user.name },
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'wandb.run_id', value: r.name },
    { key: 'wandb.entity', value: r.entity },
    { key: 'wandb.project', value: r.project },
  ]);
  const runIds = runIdCandidates(r.experimentId, r.name);
  const runId = await insertRun(tx, root, { runIds, experimentId: r.experimentId, name: displayName, userId: user.name, startTime: now, tags });
  if (!runId) throw invalidParam(`Cannot allocate an MLflow run id for W&B run '${r.name}'`);
  await tx.execute(sql`insert into wandb_runs (run_id, experiment_id, name, entity, project, display_name, user_name, created_at, heartbeat_at)
    values (${runId}, ${r.experimentId}, ${r.name}, ${r.entity}, ${r.project}, ${displayName}, ${user.name}, ${now}, ${now})`);
  return (await runById(tx, runId, true))!;
}

function mlflowTags(run: WandbRunRow): KeyValueInput[] {
  const tags: KeyValueInput[] = [];
  const add = (key: string, value: string | null) => {
    if (value !== null && value !== undefined) tags.push({ key, value });
  };
  add('mlflow.runName', run.display_name);
  add('mlflow.note.content', run.notes);
  add('mlflow.source.name', run.program);
  add('mlflow.source.git.commit', run.commit);
  add('mlflow.source.git.repoURL', run.repo);
  add('wandb.group', run.group_name);
  add('wandb.job_type', run.job_type);
  add('wandb.host', run.host);
  add('wandb.sweep', run.sweep);
  add('wandb.tags', run.tags);
  return tags;
}

// The run started when the client says it did (`_wandb.e.<writer>.startedAt`), which for a run
// synced from offline mode is long before Cairn heard of it.
async function adoptClientStartTime(tx: Orm, runId: string, config: Record<string, unknown>): Promise<void> {
  const wandb = config._wandb;
  const internal = isPlainObject(wandb) && isPlainObject(wandb.value) ? wandb.value : undefined;
  const envs = internal && isPlainObject(internal.e) ? Object.values(internal.e) : [];
  const starts = envs
    .map((e) => (isPlainObject(e) && typeof e.startedAt === 'string' ? Date.parse(e.startedAt) : NaN))
    .filter((t) => Number.isFinite(t) && t > 0);
  if (!starts.length) return;
  await lowerStartTime(tx, runId, Math.min(...starts));
}

export async function lowerStartTime(tx: Orm, runId: string, startMs: number): Promise<void> {
  await tx.execute(sql`update runs set start_time = ${Math.round(startMs)} where run_id = ${runId} and (start_time is null or start_time > ${Math.round(startMs)})`);
}
