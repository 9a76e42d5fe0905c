import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { EVENTS_FILE, HISTORY_FILE, SUMMARY_FILE, applyFileStream } from '../../domain/wandb/file-stream.js';
import { fileKey, runArtifactStore, runFileSizes, storeRunFile } from '../../domain/wandb/run-files.js';
import { upsertWandbRun } from '../../domain/wandb/upsert.js';
import type { Progress } from '../progress.js';
import { WandbArtifactSource } from './artifact-source.js';
import { importArtifacts } from './artifacts.js';
import { SourceError } from '../mlflow/source.js';
import type { WandbOfflineSource } from './offline-source.js';
import type { WandbServerSource, WandbSrcRun } from './server-source.js';

/** What copying one run reads: a W&B server, or an offline run folder decoded into the same shapes. */
type WandbRunSource = Pick<WandbServerSource, 'history' | 'events' | 'files' | 'openFile'>;

export interface WandbImportOptions {
  dryRun: boolean;
  progress: Progress;
  /** One project, or every project of the entity when absent. */
  project?: string;
  entity: string;
}

export interface WandbImportSummary {
  projects: number;
  runs: number;
  historyRows: number;
  eventRows: number;
  files: number;
  fileBytes: number;
  artifactVersions: number;
  artifactFiles: number;
  artifactBytes: number;
  skipped: { what: string; why: string }[];
}

const emptySummary = (): WandbImportSummary => ({ projects: 0, runs: 0, historyRows: 0, eventRows: 0, files: 0, fileBytes: 0, artifactVersions: 0, artifactFiles: 0, artifactBytes: 0, skipped: [] });

/** A domain call made as if the clock read `at`: creation and heartbeat times keep the source's values. */
export const at = (deps: Deps, iso: string | null | undefined): Deps => {
  const t = iso ? Date.parse(iso.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`) : NaN;
  return Number.isFinite(t) ? { ...deps, now: () => t } : deps;
};

/**
 * A W&B server's createdAt is to the second; the source run began somewhere in that second. Creating
 * it at the second's last millisecond lets the client's own start time in the config (startedAt,
 * adopted when earlier) set the start, as it did at the source, and so the end (start + runtime).
 * An offline run's creation has its milliseconds and is kept as it is.
 */
const atCreation = (deps: Deps, iso: string | null | undefined): Deps => {
  const created = at(deps, iso);
  return created === deps || /\.\d/.test(iso!) ? created : { ...created, now: () => created.now() + 999 };
};

const skippable = (err: unknown) => err instanceof MlflowError || err instanceof SourceError;

/**
 * Copies W&B runs into Cairn through the same domain functions the wandb client's own traffic goes
 * through (UpsertBucket, file_stream, file uploads), so an imported run is what a synced one is.
 * Idempotent: a run is found again by (project, run id); history and events lines are written by line
 * number (a replayed line changes nothing); a file of the same size is not copied again. The run's end
 * (its state) is written last, so an interrupted import resumed later continues where it stopped.
 * Then each project's artifacts (artifacts.ts), after its runs so that lineage links to them.
 */
export async function importFromWandb(deps: Deps, src: WandbServerSource, opts: WandbImportOptions): Promise<WandbImportSummary> {
  const summary = emptySummary();
  const projects: string[] = [];
  if (opts.project) projects.push(opts.project);
  else for await (const p of src.projects(opts.entity)) projects.push(p);
  for (const project of projects) {
    const runs: WandbSrcRun[] = [];
    for await (const r of src.runs(opts.entity, project)) runs.push(r);
    summary.projects++;
    opts.progress.phase(`runs of ${project}`, runs.length);
    for (const run of runs) {
      try {
        await importRun(deps, src, run, opts, summary);
      } catch (err) {
        if (!skippable(err)) throw err;
        summary.skipped.push({ what: `run ${run.entity}/${run.project}/${run.name}`, why: (err as Error).message });
      }
      opts.progress.tick();
    }
    // After the runs: a version's logging and using runs are linked when they are in Cairn.
    await importArtifacts(deps, new WandbArtifactSource(src), src, { entity: opts.entity, project, dryRun: opts.dryRun, progress: opts.progress, at }, summary);
  }
  return summary;
}

/**
 * Copies offline runs (`wandb/offline-run-*` folders) as `wandb sync` would: the same writes as a server
 * import, from the decoded record log. `project`/`entity` replace the run's own (an offline run often
 * has no entity). A run whose log is cut or corrupt keeps what was read before the damage, and says so.
 */
export async function importWandbOffline(
  deps: Deps,
  src: WandbOfflineSource,
  opts: Omit<WandbImportOptions, 'entity'> & { entity?: string },
): Promise<WandbImportSummary> {
  const summary = emptySummary();
  const projects = new Set<string>();
  opts.progress.phase(`runs of ${src.label}`, 0);
  for await (const run of src.runs()) {
    placeOfflineRun(run, opts);
    projects.add(run.project);
    try {
      await importRun(deps, src, run, { ...opts, entity: run.entity }, summary);
    } catch (err) {
      if (!skippable(err)) throw err;
      summary.skipped.push({ what: `run ${run.folder}`, why: (err as Error).message });
    }
    if (run.damage) summary.skipped.push({ what: `the rest of ${run.folder}`, why: run.damage });
    opts.progress.tick();
  }
  summary.projects = projects.size;
  return summary;
}

/** Where an offline run goes: `--project`/`--entity` replace its own; a run with no project goes to `uncategorized`. */
export function placeOfflineRun(run: WandbSrcRun & { folder: string }, opts: { entity?: string; project?: string }): void {
  run.project = opts.project ?? (run.project || 'uncategorized');
  run.entity = opts.entity ?? run.entity;
  if (!run.entity) throw new SourceError(`${run.folder}: the run names no entity; pass --entity`);
}

async function importRun(deps: Deps, src: WandbRunSource, run: WandbSrcRun, opts: WandbImportOptions, summary: WandbImportSummary): Promise<void> {
  summary.runs++;
  if (opts.dryRun) {
    for await (const page of src.history(run)) summary.historyRows += page.length;
    summary.eventRows += run.eventsLineCount ?? 0;
    for await (const f of src.files(run)) countFile(summary, f.sizeBytes);
    return;
  }
  const user = { name: run.entity, id: 0, isAdmin: false };
  const { run: dest } = await upsertWandbRun(atCreation(deps, run.createdAt), user, {
    name: run.name,
    project: run.project,
    entity: run.entity,
    displayName: run.displayName,
    notes: run.notes,
    groupName: run.group,
    jobType: run.jobType,
    host: run.host,
    commit: run.commit,
    tags: run.tags,
    config: run.config,
  });
  const path = { entity: dest.entity, project: dest.project, run: dest.name };
  const stream = at(deps, run.heartbeatAt);
  let line = 0;
  for await (const page of src.history(run)) {
    await applyFileStream(stream, path, { files: { [HISTORY_FILE]: { offset: line, content: page } } });
    line += page.length;
    summary.historyRows += page.length;
  }
  const events = await src.events(run);
  for (let i = 0; i < events.length; i += 1000) {
    await applyFileStream(stream, path, { files: { [EVENTS_FILE]: { offset: i, content: events.slice(i, i + 1000) } } });
  }
  summary.eventRows += events.length;
  await copyFiles(deps, src, run, dest.run_id, dest.artifact_uri, summary);
  // Last: the summary and the run's end. A run still running at the source stays running.
  const state = run.state ?? 'finished';
  const ended = state !== 'running' && state !== 'pending';
  await applyFileStream(stream, path, {
    files: run.summaryMetrics ? { [SUMMARY_FILE]: { offset: 0, content: [run.summaryMetrics] } } : {},
    complete: ended,
    exitcode: state === 'finished' ? 0 : 1,
  });
}

async function copyFiles(deps: Deps, src: WandbRunSource, run: WandbSrcRun, runId: string, artifactUri: string, summary: WandbImportSummary): Promise<void> {
  const target = runArtifactStore(deps, artifactUri);
  const have = await runFileSizes(deps, runId);
  for await (const f of src.files(run)) {
    const key = fileKey(f.name);
    if (!target || !key) {
      summary.skipped.push({ what: `file '${f.name}' of run ${run.name}`, why: target ? 'a path Cairn refuses' : `the run's artifact root ${artifactUri} is not one Cairn writes to` });
      continue;
    }
    try {
      if (have.get(key) !== f.sizeBytes) await storeRunFile(deps, runId, target, key, await src.openFile(f));
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      summary.skipped.push({ what: `file '${f.name}' of run ${run.name}`, why: err.message });
      continue;
    }
    countFile(summary, f.sizeBytes);
  }
}

function countFile(summary: WandbImportSummary, size: number): void {
  summary.files++;
  summary.fileBytes += size;
}
