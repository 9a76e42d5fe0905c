import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { numberArray, textArray } from '../../lib/pg-array.js';
import type { MetricInput } from '../run-logging.js';
import { updateRun } from '../runs.js';
import { isValidMlflowKey } from './config-params.js';
import { logNewMetrics } from './metrics.js';
import { stoppedBySweep } from './sweeps-store.js';
import { flattenRow, numericLeaves, typeName } from './flatten.js';
import { parseWandbObject } from './json.js';
import { findProject } from './projects.js';
import { runByName, type WandbRunRow } from './run-store.js';
import { applySummary, secondsToMs } from './summary.js';
import { inTx, lowerStartTime } from './upsert.js';

export const HISTORY_FILE = 'wandb-history.jsonl';
export const EVENTS_FILE = 'wandb-events.jsonl';
export const SUMMARY_FILE = 'wandb-summary.json';
export const OUTPUT_FILE = 'output.log';

export interface FileChunk {
  offset: number;
  content: string[];
}

export interface FileStreamRequest {
  files?: Record<string, FileChunk>;
  uploaded?: string[];
  complete?: boolean;
  exitcode?: number | null;
  preempting?: boolean;
}

interface ParsedLine {
  lineNo: number;
  text: string;
  row: Record<string, unknown>;
}

/**
 * Applies one file_stream post. Lines are stored by absolute line number (offset + index), so a
 * retried or replayed post rewrites the same rows; only lines whose text changed are turned into
 * metrics, and points the run already has are skipped (logNewMetrics). The whole post is one
 * transaction: it lands completely or not at all.
 */
export async function applyFileStream(deps: Deps, path: { entity?: string; project: string; run: string }, req: FileStreamRequest): Promise<void> {
  const files = req.files ?? {};
  // Parse before touching the database, so a malformed line is a 400 that writes nothing.
  const history = files[HISTORY_FILE] ? parseLines(files[HISTORY_FILE], HISTORY_FILE) : [];
  const events = files[EVENTS_FILE] ? parseLines(files[EVENTS_FILE], EVENTS_FILE) : [];
  const summaryLines = files[SUMMARY_FILE]?.content ?? [];
  const summary = summaryLines.length ? summaryLines[summaryLines.length - 1] : undefined;
  if (summary !== undefined) parseWandbObject(summary, SUMMARY_FILE);
  const output = files[OUTPUT_FILE];

  const project = await findProject(deps, path.project, path.entity);
  if (!project) throw notFound(`Project ${path.project} not found`);
  await deps.db.transaction(async (tx) => {
    const txDeps = inTx(deps, tx);
    const run = await runByName(tx, project.experimentId, path.run, true);
    if (!run || run.lifecycle_stage !== 'active') throw notFound(`Run ${path.project}/${path.run} not found`);
    if (history.length) await applyHistory(txDeps, run, history);
    if (events.length) await applyEvents(txDeps, run, events);
    if (summary !== undefined) await applySummary(txDeps, run.run_id, summary);
    if (output?.content.length) await applyOutput(tx, run, output);
    await tx.execute(sql`update wandb_runs set heartbeat_at = ${deps.now()} where run_id = ${run.run_id}`);
    if (req.complete) await finishRun(txDeps, run.run_id, req.exitcode ?? 0);
    else if (summary !== undefined && run.state !== 'running') await refreshEndTime(txDeps, run.run_id);
  });
  deps.telemetry?.fileStreamLines(Object.values(files).reduce((n, chunk) => n + (chunk?.content.length ?? 0), 0));
}

function parseLines(chunk: FileChunk, file: string): ParsedLine[] {
  return chunk.content.map((text, i) => ({
    lineNo: chunk.offset + i,
    text,
    row: parseWandbObject(text, `${file} line ${chunk.offset + i}`),
  }));
}

/** Upserts lines by number and returns those that are new or changed. */
async function storeLines(
  tx: Orm,
  table: 'history' | 'events',
  runId: string,
  lines: ParsedLine[],
): Promise<{ changed: ParsedLine[]; added: ParsedLine[] }> {
  const first = lines[0].lineNo;
  const last = lines[lines.length - 1].lineNo;
  const existing = new Map(
    (
      await rows<{ line_no: number; content: string }>(
        tx,
        table === 'history'
          ? sql`select line_no, content from wandb_history where run_id = ${runId} and line_no between ${first} and ${last}`
          : sql`select line_no, content from wandb_lines where run_id = ${runId} and stream = 'events' and line_no between ${first} and ${last}`,
      )
    ).map((r) => [r.line_no, r.content]),
  );
  const changed = lines.filter((l) => existing.get(l.lineNo) !== l.text);
  if (!changed.length) return { changed, added: [] };
  const nums = numberArray(changed.map((l) => l.lineNo));
  const texts = textArray(changed.map((l) => l.text));
  if (table === 'history') {
    await tx.execute(sql`
      insert into wandb_history (run_id, line_no, step, content)
      select ${runId}, n, s, c from unnest(${nums}::int[], ${numberArray(changed.map(stepOf))}::bigint[], ${texts}::text[]) as t(n, s, c)
      on conflict (run_id, line_no) do update set step = excluded.step, content = excluded.content`);
  } else {
    await tx.execute(sql`
      insert into wandb_lines (run_id, stream, line_no, content)
      select ${runId}, 'events', n, c from unnest(${nums}::int[], ${texts}::text[]) as t(n, c)
      on conflict (run_id, stream, line_no) do update set content = excluded.content`);
  }
  return { changed, added: changed.filter((l) => !existing.has(l.lineNo)) };
}

// `_step` is absent in shared mode; the line number is then the step.
function stepOf(line: ParsedLine): number {
  const s = line.row._step;
  return typeof s === 'number' && Number.isSafeInteger(s) && s >= 0 ? s : line.lineNo;
}

async function applyHistory(deps: Deps, run: WandbRunRow, lines: ParsedLine[]): Promise<void> {
  const { changed, added } = await storeLines(deps.db, 'history', run.run_id, lines);
  if (!changed.length) return;
  const now = deps.now();
  const keyStats = JSON.parse(run.history_keys) as Record<string, Record<string, number>>;
  const metrics: MetricInput[] = [];
  let lastStep = run.last_step ?? -1;
  let lastTs = run.last_timestamp ?? 0;
  for (const line of changed) {
    const flat = flattenRow(line.row);
    const step = stepOf(line);
    const timestamp = secondsToMs(line.row._timestamp) ?? now;
    lastStep = Math.max(lastStep, step);
    lastTs = Math.max(lastTs, timestamp);
    for (const [key, value] of numericLeaves(flat)) {
      if (isValidMlflowKey('Metric', key)) metrics.push({ key, value, step, timestamp });
    }
    if (line.lineNo === 0) {
      const runtime = typeof line.row._runtime === 'number' && Number.isFinite(line.row._runtime) ? line.row._runtime : 0;
      await lowerStartTime(deps.db, run.run_id, timestamp - Math.max(0, runtime) * 1000);
    }
  }
  for (const line of added) {
    for (const [key, value] of Object.entries(flattenRow(line.row))) {
      const types = (keyStats[key] ??= {});
      const t = typeName(value);
      types[t] = (types[t] ?? 0) + 1;
    }
  }
  const lineCount = changed.reduce((n, l) => Math.max(n, l.lineNo + 1), 0);
  await deps.db.execute(sql`update wandb_runs set history_keys = ${JSON.stringify(keyStats)},
    history_line_count = greatest(history_line_count, ${lineCount}),
    last_step = greatest(last_step, ${lastStep < 0 ? null : lastStep}::bigint), last_timestamp = greatest(last_timestamp, ${lastTs || null}::bigint)
    where run_id = ${run.run_id}`);
  await logNewMetrics(deps, run.run_id, metrics);
}

// System metrics (wandb-events.jsonl: `system.cpu`, `system.memory_percent`, …) become MLflow
// system metrics, `system/cpu`, with the line number as the step, as MLflow's own sampler does.
async function applyEvents(deps: Deps, run: WandbRunRow, lines: ParsedLine[]): Promise<void> {
  const { changed } = await storeLines(deps.db, 'events', run.run_id, lines);
  if (!changed.length) return;
  const now = deps.now();
  const metrics: MetricInput[] = [];
  let lastTs = 0;
  for (const line of changed) {
    const timestamp = secondsToMs(line.row._timestamp) ?? now;
    lastTs = Math.max(lastTs, timestamp);
    for (const [key, value] of numericLeaves(flattenRow(line.row))) {
      const name = key.startsWith('system.') ? `system/${key.slice('system.'.length)}` : `system/${key}`;
      if (isValidMlflowKey('Metric', name)) metrics.push({ key: name, value, step: line.lineNo, timestamp });
    }
  }
  const lineCount = changed.reduce((n, l) => Math.max(n, l.lineNo + 1), 0);
  await deps.db.execute(sql`update wandb_runs set events_line_count = greatest(events_line_count, ${lineCount}),
    last_timestamp = greatest(last_timestamp, ${lastTs || null}::bigint) where run_id = ${run.run_id}`);
  await logNewMetrics(deps, run.run_id, metrics);
}

// Console lines are overwritten in place: tqdm and carriage returns rewrite earlier offsets. A NUL
// printed to the console cannot go into a Postgres text column; it is kept as U+FFFD.
async function applyOutput(tx: Orm, run: WandbRunRow, chunk: FileChunk): Promise<void> {
  const nums = chunk.content.map((_, i) => chunk.offset + i);
  const texts = chunk.content.map((l) => l.replace(/\u0000/g, '\ufffd'));
  await tx.execute(sql`
    insert into wandb_lines (run_id, stream, line_no, content)
    select ${run.run_id}, 'output', n, c from unnest(${numberArray(nums)}::int[], ${textArray(texts)}::text[]) as t(n, c)
    on conflict (run_id, stream, line_no) do update set content = excluded.content`);
  await tx.execute(sql`update wandb_runs set log_line_count = greatest(log_line_count, ${chunk.offset + chunk.content.length})
                       where run_id = ${run.run_id}`);
}

/**
 * The final post: exit code 0 finishes the run, anything else fails it. The end time is the
 * client's (start + the runtime it reports, or its last timestamp), so a synced run keeps its own.
 */
export async function finishRun(deps: Deps, runId: string, exitCode: number): Promise<void> {
  if (!Number.isSafeInteger(exitCode)) throw invalidParam(`Invalid exit code ${exitCode}`);
  const end = (await clientEndTime(deps, runId)) ?? deps.now();
  // A run a sweep stopped early ends killed, whatever exit code the terminated process reported.
  const [state, status] = (await stoppedBySweep(deps.db, runId)) ? ['killed', 'KILLED'] : exitCode === 0 ? ['finished', 'FINISHED'] : ['failed', 'FAILED'];
  await deps.db.execute(sql`update wandb_runs set state = ${state}, exit_code = ${exitCode} where run_id = ${runId}`);
  await updateRun(deps, { run_id: runId, status, end_time: end });
}

/** Start + the runtime the run's summary reports, at least its last timestamp; undefined if it reports neither. */
async function clientEndTime(deps: Deps, runId: string): Promise<number | undefined> {
  const [run] = await rows<{ summary: string; last_timestamp: number | string | null; start_time: number | string | null }>(
    deps.db,
    sql`select w.summary, w.last_timestamp, r.start_time from wandb_runs w join runs r on r.run_id = w.run_id where w.run_id = ${runId}`,
  );
  const summary = parseWandbObject(run.summary, 'summary');
  const internal = summary._wandb as { runtime?: unknown } | undefined;
  const runtime = typeof internal?.runtime === 'number' ? internal.runtime : typeof summary._runtime === 'number' ? summary._runtime : undefined;
  const start = run.start_time === null ? undefined : Number(run.start_time);
  const lastTs = run.last_timestamp === null ? undefined : Number(run.last_timestamp);
  let end = start !== undefined && runtime !== undefined && Number.isFinite(runtime) ? start + Math.round(runtime * 1000) : lastTs;
  if (end === undefined) return undefined;
  if (lastTs !== undefined) end = Math.max(end, lastTs);
  if (start !== undefined) end = Math.max(end, start);
  return end;
}

/**
 * A summary posted after the run ended (wandb-core may send its last summary after the completing
 * post when it is slow) moves the end to the runtime that summary reports: the end is the same
 * whichever of the client's last posts arrived first, and an import of the run finds it again.
 */
async function refreshEndTime(deps: Deps, runId: string): Promise<void> {
  const end = await clientEndTime(deps, runId);
  if (end !== undefined) await deps.db.execute(sql`update runs set end_time = ${end} where run_id = ${runId} and end_time is not null`);
}
