import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import type { WandbUser } from './api-keys.js';
import { applyFileStream, finishRun, HISTORY_FILE, SUMMARY_FILE } from './file-stream.js';
import { isPlainObject, parseWandbObject, stringifyWandbJson } from './json.js';
import { requireRun, storageId, wandbState, type WandbRunRow } from './run-store.js';
import { upsertWandbRun } from './upsert.js';

// The plain REST face of a W&B run (POST /api/wandb/runs/…), for scripts that use neither client.
// Every call goes through the same functions as the wire protocol, so the result is the same run.

export interface RestRunInput {
  project: string;
  entity?: string;
  id?: string;
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  group?: string;
  job_type?: string;
  notes?: string;
}

export interface RestRunWire {
  id: string;
  entity: string;
  project: string;
  display_name: string | null;
  state: string;
  run_id: string;
  experiment_id: string;
  storage_id: string;
  history_line_count: number;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  tags: string[];
  group?: string;
  job_type?: string;
  notes?: string;
}

export function toRestRun(run: WandbRunRow, now: number): RestRunWire {
  const config = run.config ? parseWandbObject(run.config, 'config') : {};
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (k !== '_wandb') plain[k] = isPlainObject(v) && 'value' in v ? v.value : v;
  const out: RestRunWire = {
    id: run.name,
    entity: run.entity,
    project: run.project,
    display_name: run.display_name,
    state: wandbState(run, now),
    run_id: run.run_id,
    experiment_id: String(run.experiment_id),
    storage_id: storageId(run.run_id),
    history_line_count: run.history_line_count,
    config: plain,
    summary: parseWandbObject(run.summary, 'summary'),
    tags: JSON.parse(run.tags) as string[],
  };
  if (run.group_name !== null) out.group = run.group_name;
  if (run.job_type !== null) out.job_type = run.job_type;
  if (run.notes !== null) out.notes = run.notes;
  return out;
}

export async function createRestRun(deps: Deps, user: WandbUser, input: RestRunInput, beforeWrite?: (project: string, entity: string) => Promise<void>): Promise<{ run: WandbRunRow; projectCreated: boolean }> {
  // The client's config form: every top-level key wrapped in {"value": …}.
  const config = input.config
    ? stringifyWandbJson(Object.fromEntries(Object.entries(input.config).map(([k, v]) => [k, { value: v }])))
    : undefined;
  const { run, projectCreated } = await upsertWandbRun(deps, user, {
    name: input.id,
    project: input.project,
    entity: input.entity,
    displayName: input.name,
    config,
    tags: input.tags,
    groupName: input.group,
    jobType: input.job_type,
    notes: input.notes,
  }, beforeWrite);
  return { run, projectCreated };
}

/**
 * Appends rows to the history (or, with `offset`, writes them from that line on, which makes a
 * retry safe). `_step` defaults to the next step, `_timestamp` to now.
 */
export async function appendHistory(
  deps: Deps,
  path: { entity?: string; project: string; run: string },
  rows: Record<string, unknown>[],
  offset?: number,
): Promise<WandbRunRow> {
  const run = await requireRun(deps, path.project, path.run, path.entity);
  const start = offset ?? run.history_line_count;
  let step = offset === undefined ? (run.last_step ?? -1) + 1 : undefined;
  const now = deps.now();
  const content = rows.map((row, i) => {
    const line: Record<string, unknown> = { ...row };
    if (line._step === undefined) line._step = step ?? start + i;
    else if (typeof line._step !== 'number' || !Number.isSafeInteger(line._step) || line._step < 0) {
      throw invalidParam(`Row ${i}: _step must be a non-negative integer`);
    }
    if (step !== undefined) step = (line._step as number) + 1;
    if (line._timestamp === undefined) line._timestamp = now / 1000;
    if (line._runtime === undefined && run.start_time !== null) line._runtime = Math.max(0, (now - run.start_time) / 1000);
    return stringifyWandbJson(line);
  });
  await applyFileStream(deps, path, { files: { [HISTORY_FILE]: { offset: start, content } } });
  return requireRun(deps, path.project, path.run, path.entity);
}

/** Merges keys into the summary (`null` removes one). */
export async function updateSummary(deps: Deps, path: { entity?: string; project: string; run: string }, changes: Record<string, unknown>): Promise<WandbRunRow> {
  const run = await requireRun(deps, path.project, path.run, path.entity);
  const summary = parseWandbObject(run.summary, 'summary');
  for (const [k, v] of Object.entries(changes)) {
    if (k === '__proto__') continue;
    if (v === null) delete summary[k];
    else summary[k] = v;
  }
  await applyFileStream(deps, path, { files: { [SUMMARY_FILE]: { offset: 0, content: [stringifyWandbJson(summary)] } } });
  return requireRun(deps, path.project, path.run, path.entity);
}

export async function finishRestRun(deps: Deps, path: { entity?: string; project: string; run: string }, exitCode: number): Promise<WandbRunRow> {
  const run = await requireRun(deps, path.project, path.run, path.entity);
  await deps.db.transaction((tx) => finishRun({ ...deps, db: tx }, run.run_id, exitCode));
  return requireRun(deps, path.project, path.run, path.entity);
}
