import { createReadStream, type Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { SourceError } from '../mlflow/source.js';
import { ProtobufError } from '../tensorboard/protobuf.js';
import { decodeRecord, elapsed, seconds, type KeyedValue, type Timestamp } from './offline-record.js';
import { mergeTelemetry, type Telemetry } from './offline-telemetry.js';
import { readRecordLog } from './record-log.js';
import type { WandbSrcFile, WandbSrcRun } from './server-source.js';

/** One offline run, decoded: what `wandb sync` would send, as the lines a server's file_stream keeps. */
export interface OfflineRun extends WandbSrcRun {
  folder: string;
  historyLines: string[];
  eventLines: string[];
  /** Set when the log stopped early: the file and why (the records before it were read). */
  damage?: string;
}

const RUN_LOG = /^run-[^/]+\.wandb$/;

/**
 * Reads `wandb/offline-run-*` folders, each holding `run-<id>.wandb` (the client's record log) and
 * `files/` (what `wandb.save` and the client put there). `path` is one run folder or a folder of
 * them (a project's `./wandb`). Runs come in folder-name order, which is start-time order.
 */
export class WandbOfflineSource {
  private constructor(readonly label: string, private readonly folders: string[]) {}

  static async open(path: string): Promise<WandbOfflineSource> {
    const entries = await readdir(path, { withFileTypes: true }).catch((err: Error) => {
      throw new SourceError(`${path}: ${err.message}`);
    });
    if (entries.some((e) => e.isFile() && RUN_LOG.test(e.name))) return new WandbOfflineSource(path, [path]);
    const folders: string[] = [];
    for (const e of entries.filter((d: Dirent) => d.isDirectory() && /^(offline-)?run-/.test(d.name)).sort((a, b) => a.name.localeCompare(b.name))) {
      const inner = await readdir(join(path, e.name));
      if (inner.some((n) => RUN_LOG.test(n))) folders.push(join(path, e.name));
    }
    if (!folders.length) throw new SourceError(`${path}: no W&B run folder here (expected run-<id>.wandb, or offline-run-* folders holding one)`);
    return new WandbOfflineSource(path, folders);
  }

  async *runs(): AsyncIterable<OfflineRun> {
    for (const folder of this.folders) yield await readRun(folder);
  }

  async *history(run: WandbSrcRun): AsyncIterable<string[]> {
    const lines = (run as OfflineRun).historyLines;
    for (let i = 0; i < lines.length; i += 1000) yield lines.slice(i, i + 1000);
  }

  async events(run: WandbSrcRun): Promise<string[]> {
    return (run as OfflineRun).eventLines;
  }

  async *files(run: WandbSrcRun): AsyncIterable<WandbSrcFile> {
    const root = join((run as OfflineRun).folder, 'files');
    for (const path of await walk(root)) {
      yield { name: relative(root, path).split(sep).join('/'), sizeBytes: (await stat(path)).size, directUrl: path };
    }
  }

  async openFile(f: WandbSrcFile): Promise<Readable> {
    return createReadStream(f.directUrl);
  }
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // `wandb.save` links the saved file into files/: a link is followed (a dangling one is left out).
    const kind = e.isSymbolicLink() ? await stat(join(dir, e.name)).catch(() => undefined) : e;
    if (kind?.isDirectory()) out.push(...(await walk(join(dir, e.name))));
    else if (kind?.isFile()) out.push(join(dir, e.name));
  }
  return out;
}

/** Sets `value` at `path` inside `target`, making the dicts on the way (a nested key). */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let at = target;
  for (const k of path.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null || Array.isArray(at[k])) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[path[path.length - 1]] = value;
}

function removePath(target: Record<string, unknown>, path: string[]): void {
  let at: unknown = target;
  for (const k of path.slice(0, -1)) at = (at as Record<string, unknown> | undefined)?.[k];
  if (at && typeof at === 'object') delete (at as Record<string, unknown>)[path[path.length - 1]];
}

/** What the client's sender adds under `_wandb` from the telemetry, as a synced run has it. */
function addInternal(config: Record<string, unknown>, t: Telemetry): void {
  const internal = (config._wandb && typeof config._wandb === 'object' ? config._wandb : (config._wandb = {})) as Record<string, unknown>;
  if (typeof t['5'] === 'string') internal.cli_version ??= t['5'];
  if (typeof t['4'] === 'string') internal.python_version ??= t['4'];
  internal.t = t;
}

function apply(target: Record<string, unknown>, items: KeyedValue[]): void {
  for (const it of items) setPath(target, it.path, JSON.parse(it.valueJson));
}

const iso = (seconds: number | undefined) => (seconds === undefined ? null : new Date(seconds * 1000).toISOString());

async function readRun(folder: string): Promise<OfflineRun> {
  const logName = (await readdir(folder)).find((n) => RUN_LOG.test(n))!;
  const file = join(folder, logName);
  const log = readRecordLog(await readFile(file));
  let damage = log.error ? `${file}: ${log.error}` : undefined;
  const run: OfflineRun = { folder, entity: '', project: '', name: '', tags: [], historyLines: [], eventLines: [] };
  const config: Record<string, unknown> = {};
  const summary: Record<string, unknown> = {};
  let start: Timestamp | undefined;
  let last: number | undefined;
  let exitCode: number | undefined;
  let telemetry: Telemetry | undefined;
  for (const [i, buf] of log.records.entries()) {
    let rec;
    try {
      rec = decodeRecord(buf);
      if (rec.kind === 'run') {
        const r = rec.run;
        Object.assign(run, { name: r.runId, entity: r.entity, project: r.project, displayName: r.displayName || null, notes: r.notes || null });
        Object.assign(run, { group: r.group || null, jobType: r.jobType || null, host: r.host || null, tags: r.tags });
        apply(config, r.config);
        start = r.startTime;
        if (r.telemetry) telemetry = mergeTelemetry(telemetry ?? {}, r.telemetry);
      } else if (rec.kind === 'history') {
        const row: Record<string, unknown> = {};
        apply(row, rec.items);
        if (rec.step !== undefined && row._step === undefined) row._step = rec.step;
        if (typeof row._timestamp === 'number') last = row._timestamp;
        run.historyLines.push(JSON.stringify(row));
      } else if (rec.kind === 'summary' || rec.kind === 'config') {
        const target = rec.kind === 'summary' ? summary : config;
        apply(target, rec.update);
        for (const p of rec.remove) removePath(target, p);
      } else if (rec.kind === 'stats') {
        // As the client's file_stream sends them: system.<key>, flagged _wandb, timed from the run's start.
        const row: Record<string, unknown> = {};
        for (const it of rec.items) row[`system.${it.path.join('.')}`] = JSON.parse(it.valueJson);
        const ts = rec.timestamp;
        Object.assign(row, { _wandb: true, _timestamp: ts && seconds(ts), _runtime: start && ts && elapsed(start, ts) });
        if (ts) last = Math.max(last ?? 0, seconds(ts));
        run.eventLines.push(JSON.stringify(row));
      } else if (rec.kind === 'telemetry') telemetry = mergeTelemetry(telemetry ?? {}, rec.telemetry);
      else if (rec.kind === 'exit') exitCode = rec.exitCode;
    } catch (err) {
      if (!(err instanceof ProtobufError || err instanceof SyntaxError)) throw err;
      damage = `${file}: record ${i + 1} unreadable (${err.message})`;
      break;
    }
  }
  if (!run.name) throw new SourceError(`${file}: no run record${damage ? ` (${damage})` : ''}`);
  if (telemetry) addInternal(config, telemetry);
  // W&B's server keeps config values as {value, desc}: the shape UpsertBucket receives.
  run.config = JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { desc: null, value: v }])));
  run.summaryMetrics = JSON.stringify(summary);
  run.createdAt = iso(start && seconds(start));
  run.heartbeatAt = iso(last ?? (start && seconds(start)));
  // No exit record: the process died before finishing (or the log was cut), as W&B calls it, crashed.
  run.state = exitCode === undefined ? 'crashed' : exitCode === 0 ? 'finished' : 'failed';
  run.damage = damage;
  return run;
}
