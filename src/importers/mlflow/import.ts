import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { proxiedKeyOf } from '../../domain/artifacts-location.js';
import { createExperiment, getExperimentByName, setExperimentLifecycle, setExperimentTag } from '../../domain/experiments.js';
import {
  createRunWithId,
  findRun,
  modelVersionNumbers,
  setExperimentTimes,
  setLoggedModelUpdated,
  setRegisteredModelTimes,
  upsertLoggedModel,
} from '../../domain/import-writes.js';
import { deleteLoggedModel } from '../../domain/registry/logged-models.js';
import { logInputs } from '../../domain/run-io.js';
import { logBatch } from '../../domain/run-logging.js';
import { setRunLifecycle, updateRun } from '../../domain/runs.js';
import { createModelVersion, setModelVersionTag, transitionStage, updateModelVersion } from '../../domain/registry/model-versions.js';
import { createRegisteredModel, setAlias } from '../../domain/registry/registered-models.js';
import { getRegisteredModel } from '../../domain/registry/read.js';
import { LIMITS } from '../../domain/validation.js';
import type { Progress } from '../progress.js';
import { attempt, countFile, emptySummary, readAhead, repointArtifacts, runPhases, type ReadAhead, type TransferSummary } from '../transfer.js';
import { SourceError, type MlflowSource, type SrcExperiment, type SrcFile, type SrcLoggedModel, type SrcMetric, type SrcModel, type SrcRun } from './source.js';

export interface ImportOptions {
  dryRun: boolean;
  progress: Progress;
}

export type ImportSummary = TransferSummary;

/** A domain call made as if the clock read `at`: creation and update times keep the source's values. */
const at = (deps: Deps, time: number | undefined): Deps => (time ? { ...deps, now: () => Number(time) } : deps);

const skippable = (err: unknown) => err instanceof MlflowError || err instanceof SourceError;

interface Ctx {
  deps: Deps;
  src: MlflowSource;
  opts: ImportOptions;
  summary: ImportSummary;
  /** source artifact URI -> Cairn's, for re-pointing model version sources */
  artifactUris: Map<string, string>;
}

/**
 * Copies an MLflow source (tracking server, SQL database or file store) into Cairn's store through
 * the domain layer. Every step is idempotent (experiments by name, runs, logged models and metric
 * points by their original ids and keys, versions by number, artifacts by size), and the steps that
 * end an entity's import (a run's or experiment's deletion) come last, so a killed import resumed
 * later continues without duplicating anything.
 */
export async function importFromMlflow(deps: Deps, src: MlflowSource, opts: ImportOptions): Promise<ImportSummary> {
  const summary = emptySummary();
  const ctx: Ctx = { deps, src, opts, summary, artifactUris: new Map() };
  await runPhases(src, summary, { progress: opts.progress, skippable }, { experiment: (e) => importExperiment(ctx, e), model: (m) => importModel(ctx, m) });
  return summary;
}

async function importExperiment(ctx: Ctx, exp: SrcExperiment): Promise<void> {
  const { deps, src, opts, summary } = ctx;
  const existing = await getExperimentByName(deps, exp.name).catch((err) => {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw err;
  });
  // A deleted experiment is deleted last, once all its runs are in: deleted here means done.
  if (existing?.lifecycle_stage === 'deleted') return;
  summary.experiments++;
  let destId = existing?.experiment_id;
  if (!opts.dryRun) {
    if (!destId) destId = await createExperiment(at(deps, exp.creation_time), { name: exp.name });
    for (const t of exp.tags ?? []) await setExperimentTag(deps, destId, t.key, t.value ?? '');
  }
  // Logged models are listed first: the points they link to a run are written with that run's metrics.
  const loggedModels: SrcLoggedModel[] = [];
  for await (const m of src.loggedModels(exp.experiment_id)) loggedModels.push(m);
  const linked = new Map<string, SrcMetric[]>();
  for (const m of loggedModels) for (const p of m.metrics ?? []) linked.set(p.run_id, [...(linked.get(p.run_id) ?? []), p]);
  // Each run's metric pages are read ahead, the first while the run before is being written: the
  // source's reads (most of a move's time from a `mlflow server`) overlap Cairn's writes.
  const importOne = async ({ run, pages }: { run: SrcRun; pages: ReadAhead<SrcMetric[]> }) => {
    try {
      await attempt(summary, skippable, `run ${run.info.run_id}`, () => importRun(ctx, run, destId, linked.get(run.info.run_id) ?? [], pages));
    } finally {
      pages.close();
    }
  };
  let pending: { run: SrcRun; pages: ReadAhead<SrcMetric[]> } | undefined;
  try {
    for await (const run of src.runs(exp.experiment_id)) {
      const before = pending;
      pending = { run, pages: readAhead(metricPages(src, run)) };
      if (before) await importOne(before);
    }
    if (pending) await importOne(pending);
  } finally {
    pending?.pages.close(); // the run read ahead when the listing of runs failed
  }
  for (const m of loggedModels) await attempt(summary, skippable, `logged model ${m.model_id}`, () => importLoggedModel(ctx, m, destId));
  if (!opts.dryRun && destId) {
    const created = Number(exp.creation_time ?? deps.now());
    await setExperimentTimes(deps, destId, created, Number(exp.last_update_time ?? created));
    if (exp.lifecycle_stage === 'deleted') await setExperimentLifecycle(at(deps, exp.last_update_time), destId, 'deleted');
  }
}

/** Every point of every metric of the run, a page at a time. */
async function* metricPages(src: MlflowSource, run: SrcRun): AsyncGenerator<SrcMetric[]> {
  for (const m of run.data.metrics ?? []) yield* src.metricHistory(run.info, m.key);
}

async function importRun(ctx: Ctx, run: SrcRun, destExperimentId: string | undefined, linked: SrcMetric[], pages: AsyncIterable<SrcMetric[]>): Promise<void> {
  const { deps, src, opts, summary, artifactUris } = ctx;
  const { info, data } = run;
  const found = await findRun(deps, info.run_id);
  if (found && found.experiment_id !== destExperimentId) {
    throw new SourceError(`run id ${info.run_id} is already used by a run of experiment ${found.experiment_id} in Cairn`);
  }
  if (found) artifactUris.set(info.artifact_uri, found.artifact_uri);
  if (found?.lifecycle_stage === 'deleted') return; // deleted last: already complete
  summary.runs++;
  if (opts.dryRun || !destExperimentId) {
    for await (const page of pages) summary.metricPoints += page.length;
    for await (const f of src.artifactFiles(info)) countFile(summary, f);
    return;
  }
  const artifactUri =
    found?.artifact_uri ??
    (await createRunWithId(deps, {
      runId: info.run_id,
      experimentId: destExperimentId,
      name: info.run_name || data.tags?.find((t) => t.key === 'mlflow.runName')?.value || info.run_id,
      userId: info.user_id ?? '',
      startTime: info.start_time ?? 0,
      tags: data.tags,
    }));
  artifactUris.set(info.artifact_uri, artifactUri);
  const params = data.params ?? [];
  for (let i = 0; i < params.length; i += LIMITS.batchParams) await logBatch(deps, info.run_id, { params: params.slice(i, i + LIMITS.batchParams) });
  const tags = data.tags ?? [];
  for (let i = 0; i < tags.length; i += LIMITS.batchTags) await logBatch(deps, info.run_id, { tags: tags.slice(i, i + LIMITS.batchTags) });
  // Every point of every metric, page by page; a replayed point is a no-op (the metrics primary key).
  for await (const page of pages) {
    await logPoints(deps, info.run_id, page);
    summary.metricPoints += page.length;
  }
  // The same points again with their logged model's id: the existing rows get the link.
  await logPoints(deps, info.run_id, linked);
  const datasets = run.inputs?.dataset_inputs ?? [];
  if (datasets.length) await logInputs(deps, { run_id: info.run_id, datasets });
  await copyFiles(deps.blobs, src.artifactFiles(info), (path) => src.openArtifact(info, path), artifactUri, `run ${info.run_id}`, summary);
  await updateRun(deps, { run_id: info.run_id, status: info.status, end_time: info.end_time ?? undefined });
  if (info.lifecycle_stage === 'deleted') await setRunLifecycle(deps, info.run_id, 'deleted');
}

async function logPoints(deps: Deps, runId: string, points: SrcMetric[]): Promise<void> {
  for (let i = 0; i < points.length; i += LIMITS.batchMetrics) {
    const batch = points.slice(i, i + LIMITS.batchMetrics).map((p) => ({
      key: p.key,
      value: Number(p.value),
      timestamp: p.timestamp,
      step: p.step ?? 0,
      model_id: p.model_id,
      dataset_name: p.dataset_name,
      dataset_digest: p.dataset_digest,
    }));
    await logBatch(deps, runId, { metrics: batch });
  }
}

async function importLoggedModel(ctx: Ctx, m: SrcLoggedModel, destExperimentId: string | undefined): Promise<void> {
  const { deps, src, opts, summary, artifactUris } = ctx;
  summary.loggedModels++;
  if (opts.dryRun || !destExperimentId) {
    for await (const f of src.loggedModelFiles(m)) countFile(summary, f);
    return;
  }
  const created = Number(m.creation_timestamp_ms ?? deps.now());
  const location = await upsertLoggedModel(deps, {
    ...m,
    experiment_id: destExperimentId,
    creation_timestamp_ms: created,
    last_updated_timestamp_ms: Number(m.last_updated_timestamp_ms ?? created),
    lifecycle_stage: 'active',
  });
  artifactUris.set(m.artifact_uri, location);
  await copyFiles(deps.blobs, src.loggedModelFiles(m), (path) => src.openLoggedModelArtifact(m, path), location, `logged model ${m.model_id}`, summary);
  if (m.lifecycle_stage === 'deleted') await deleteLoggedModel(deps, m.model_id);
  await setLoggedModelUpdated(deps, m.model_id, Number(m.last_updated_timestamp_ms ?? created));
}

/** Streams each file into Cairn's store under `destUri`; a file of the same size came over in an earlier pass. */
async function copyFiles(
  blobs: Deps['blobs'],
  files: AsyncIterable<SrcFile>,
  open: (path: string) => Promise<NodeJS.ReadableStream>,
  destUri: string,
  owner: string,
  summary: ImportSummary,
): Promise<void> {
  const root = proxiedKeyOf(destUri);
  if (root === undefined) {
    summary.skipped.push({ what: `artifacts of ${owner}`, why: `Cairn's artifact root ${destUri} is not served by Cairn (start with the default --default-artifact-root)` });
    return;
  }
  for await (const f of files) {
    const key = `${root}/${f.path}`;
    const size = Number(f.file_size ?? -1);
    // Artifacts are immutable once logged: the same size means this file came over in an earlier pass.
    const have = await blobs.head(key).then((h) => h.size, () => -1);
    try {
      if (have !== size || size < 0) await blobs.put(key, (await open(f.path)) as import('node:stream').Readable);
    } catch (err) {
      if (!(err instanceof SourceError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      summary.skipped.push({ what: `artifact '${f.path}' of ${owner}`, why: (err as Error).message });
      continue;
    }
    countFile(summary, f);
  }
}

async function importModel(ctx: Ctx, model: SrcModel): Promise<void> {
  const { deps, src, opts, summary, artifactUris } = ctx;
  const versions = await src.versions(model);
  summary.models++;
  summary.versions += versions.length;
  if (opts.dryRun) return;
  const dest = await getRegisteredModel(deps.registryDb, model.name).catch((err) => {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw err;
  });
  if (!dest) {
    await createRegisteredModel(at(deps, model.creation_timestamp), { name: model.name, description: model.description, tags: model.tags });
  }
  const have = await modelVersionNumbers(deps, model.name);
  for (const v of versions) {
    if (have.has(Number(v.version))) continue;
    const created = await createModelVersion(at(deps, v.creation_timestamp), {
      name: v.name,
      source: repointArtifacts(v.source, artifactUris),
      run_id: v.run_id || undefined,
      run_link: v.run_link,
      description: v.description,
      tags: v.tags,
      // Not every source says which logged model a models:/m-… source is (REST omits it): the URI does.
      model_id: v.model_id || /^models:\/(m-[\w-]+)$/.exec(v.source)?.[1],
    });
    if (created.version !== String(v.version)) {
      summary.skipped.push({ what: `version ${v.version} of '${v.name}'`, why: `arrived as version ${created.version} (the source has gaps in its numbering)` });
    }
    if (v.current_stage && v.current_stage !== 'None') {
      await transitionStage(at(deps, v.last_updated_timestamp), { name: v.name, version: created.version, stage: v.current_stage });
    }
  }
  // Tags, descriptions and aliases are set (not added), so a second pass leaves them as they are.
  for (const v of versions) {
    for (const t of v.tags ?? []) await setModelVersionTag(at(deps, v.last_updated_timestamp), v.name, v.version, t.key, t.value ?? '');
    if (v.description) await updateModelVersion(at(deps, v.last_updated_timestamp), v.name, v.version, v.description);
  }
  for (const a of model.aliases ?? []) await setAlias(deps, model.name, a.alias, a.version);
  const created = Number(model.creation_timestamp ?? deps.now());
  await setRegisteredModelTimes(deps, model.name, created, Number(model.last_updated_timestamp ?? created));
}
