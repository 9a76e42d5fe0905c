import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { MlflowError } from '../errors.js';
import { proxiedKeyOf } from '../domain/artifacts-location.js';
import { createExperiment, getExperimentByName, setExperimentLifecycle, setExperimentTag } from '../domain/experiments.js';
import { logInputs } from '../domain/run-io.js';
import { logBatch } from '../domain/run-logging.js';
import { insertRun, runTagValues, setRunLifecycle, updateRun } from '../domain/runs.js';
import { activeExperimentRoot } from '../domain/experiments.js';
import { createModelVersion, setModelVersionTag, transitionStage, updateModelVersion } from '../domain/registry/model-versions.js';
import { createRegisteredModel, setAlias } from '../domain/registry/registered-models.js';
import { getRegisteredModel } from '../domain/registry/read.js';
import { LIMITS } from '../domain/validation.js';
import { MlflowRestSource, SourceError, type SrcExperiment, type SrcModel, type SrcRun } from './mlflow-rest-source.js';
import type { Progress } from './progress.js';

export interface ImportOptions {
  dryRun: boolean;
  progress: Progress;
}

export interface ImportSummary {
  experiments: number;
  runs: number;
  metricPoints: number;
  artifacts: number;
  artifactBytes: number;
  models: number;
  versions: number;
  skipped: { what: string; why: string }[];
}

/** A domain call made as if the clock read `at`: creation and update times keep the source's values. */
const at = (deps: Deps, time: number | undefined): Deps => (time ? { ...deps, now: () => Number(time) } : deps);

/**
 * Copies an MLflow tracking server into Cairn's store through the domain layer. Every step is
 * idempotent (experiments by name, runs and metric points by their original ids and keys, versions
 * by number, artifacts by size), and the steps that end an entity's import (a run's or experiment's
 * deletion) come last, so a killed import resumed later continues without duplicating anything.
 */
export async function importFromMlflowServer(deps: Deps, src: MlflowRestSource, opts: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { experiments: 0, runs: 0, metricPoints: 0, artifacts: 0, artifactBytes: 0, models: 0, versions: 0, skipped: [] };
  const artifactUris = new Map<string, string>(); // source artifact_uri -> Cairn's, for model version sources
  const experiments: SrcExperiment[] = [];
  for await (const e of src.experiments()) experiments.push(e);
  for (const exp of experiments) {
    try {
      await importExperiment(deps, src, exp, opts, summary, artifactUris);
    } catch (err) {
      if (!(err instanceof MlflowError || err instanceof SourceError)) throw err;
      summary.skipped.push({ what: `experiment '${exp.name}'`, why: err.message });
    }
  }
  const models: SrcModel[] = [];
  for await (const m of src.registeredModels()) models.push(m);
  for (const model of models) {
    try {
      await importModel(deps, src, model, opts, summary, artifactUris);
    } catch (err) {
      if (!(err instanceof MlflowError || err instanceof SourceError)) throw err;
      summary.skipped.push({ what: `registered model '${model.name}'`, why: err.message });
    }
  }
  return summary;
}

async function importExperiment(
  deps: Deps,
  src: MlflowRestSource,
  exp: SrcExperiment,
  opts: ImportOptions,
  summary: ImportSummary,
  artifactUris: Map<string, string>,
): Promise<void> {
  opts.progress.step(`experiment ${exp.name}`);
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
  for await (const run of src.runs(exp.experiment_id)) {
    try {
      await importRun(deps, src, run, destId, opts, summary, artifactUris);
    } catch (err) {
      if (!(err instanceof MlflowError || err instanceof SourceError)) throw err;
      summary.skipped.push({ what: `run ${run.info.run_id}`, why: err.message });
    }
  }
  if (!opts.dryRun && destId) {
    await rows(deps.db, sql`update experiments set creation_time = ${Number(exp.creation_time ?? deps.now())},
                                last_update_time = ${Number(exp.last_update_time ?? exp.creation_time ?? deps.now())}
                            where experiment_id = ${Number(destId)}`);
    if (exp.lifecycle_stage === 'deleted') await setExperimentLifecycle(at(deps, exp.last_update_time), destId, 'deleted');
  }
}

async function importRun(
  deps: Deps,
  src: MlflowRestSource,
  run: SrcRun,
  destExperimentId: string | undefined,
  opts: ImportOptions,
  summary: ImportSummary,
  artifactUris: Map<string, string>,
): Promise<void> {
  const { info, data } = run;
  opts.progress.step(`run ${info.run_id}`);
  const found = await rows<{ experiment_id: number | string; lifecycle_stage: string; artifact_uri: string }>(
    deps.db,
    sql`select experiment_id, lifecycle_stage, artifact_uri from runs where run_id = ${info.run_id}`,
  );
  if (found.length && String(found[0].experiment_id) !== destExperimentId) {
    throw new SourceError(`run id ${info.run_id} is already used by a run of experiment ${found[0].experiment_id} in Cairn`);
  }
  if (found.length) artifactUris.set(info.artifact_uri, found[0].artifact_uri);
  if (found[0]?.lifecycle_stage === 'deleted') return; // deleted last: already complete
  summary.runs++;
  if (opts.dryRun || !destExperimentId) {
    for (const m of data.metrics ?? []) for await (const page of src.metricHistory(info.run_id, m.key)) summary.metricPoints += page.length;
    for await (const f of src.artifactFiles(info.run_id)) {
      summary.artifacts++;
      summary.artifactBytes += Number(f.file_size ?? 0);
    }
    return;
  }
  let artifactUri = found[0]?.artifact_uri;
  if (!found.length) {
    const name = info.run_name || (data.tags ?? []).find((t) => t.key === 'mlflow.runName')?.value || info.run_id;
    await deps.db.transaction(async (tx) => {
      const root = await activeExperimentRoot(tx, Number(destExperimentId), destExperimentId);
      const tags = runTagValues(data.tags);
      await insertRun(tx, root, { runIds: [info.run_id], experimentId: Number(destExperimentId), name, userId: info.user_id ?? '', startTime: info.start_time ?? 0, tags });
    });
    [{ artifact_uri: artifactUri }] = await rows<{ artifact_uri: string }>(deps.db, sql`select artifact_uri from runs where run_id = ${info.run_id}`);
  }
  artifactUris.set(info.artifact_uri, artifactUri!);
  const params = data.params ?? [];
  for (let i = 0; i < params.length; i += LIMITS.batchParams) await logBatch(deps, info.run_id, { params: params.slice(i, i + LIMITS.batchParams) });
  const tags = data.tags ?? [];
  for (let i = 0; i < tags.length; i += LIMITS.batchTags) await logBatch(deps, info.run_id, { tags: tags.slice(i, i + LIMITS.batchTags) });
  // Every point of every metric, page by page; a replayed point is a no-op (the metrics primary key).
  for (const m of data.metrics ?? []) {
    for await (const page of src.metricHistory(info.run_id, m.key)) {
      for (let i = 0; i < page.length; i += LIMITS.batchMetrics) {
        const batch = page.slice(i, i + LIMITS.batchMetrics).map((p) => ({ key: p.key, value: Number(p.value), timestamp: p.timestamp, step: p.step ?? 0 }));
        await logBatch(deps, info.run_id, { metrics: batch });
      }
      summary.metricPoints += page.length;
    }
  }
  const datasets = run.inputs?.dataset_inputs ?? [];
  if (datasets.length) await logInputs(deps, { run_id: info.run_id, datasets });
  await importArtifacts(deps, src, info.run_id, artifactUri!, summary);
  await updateRun(deps, { run_id: info.run_id, status: info.status, end_time: info.end_time ?? undefined });
  if (info.lifecycle_stage === 'deleted') await setRunLifecycle(deps, info.run_id, 'deleted');
}

async function importArtifacts(deps: Deps, src: MlflowRestSource, runId: string, destUri: string, summary: ImportSummary): Promise<void> {
  const root = proxiedKeyOf(destUri);
  if (root === undefined) {
    summary.skipped.push({ what: `artifacts of run ${runId}`, why: `Cairn's artifact root ${destUri} is not served by Cairn (start with the default --default-artifact-root)` });
    return;
  }
  for await (const f of src.artifactFiles(runId)) {
    const key = `${root}/${f.path}`;
    const size = Number(f.file_size ?? -1);
    // Artifacts are immutable once logged: the same size means this file came over in an earlier pass.
    const have = await deps.blobs.head(key).then((h) => h.size, () => -1);
    if (have !== size || size < 0) await deps.blobs.put(key, await src.openArtifact(runId, f.path));
    summary.artifacts++;
    summary.artifactBytes += Math.max(size, 0);
  }
}

async function importModel(
  deps: Deps,
  src: MlflowRestSource,
  listed: SrcModel,
  opts: ImportOptions,
  summary: ImportSummary,
  artifactUris: Map<string, string>,
): Promise<void> {
  opts.progress.step(`model ${listed.name}`);
  const model = await src.registeredModel(listed.name);
  const versions = await src.versions(model.name);
  summary.models++;
  summary.versions += versions.length;
  if (opts.dryRun) return;
  let dest = await getRegisteredModel(deps.db, model.name).catch((err) => {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw err;
  });
  if (!dest) {
    dest = await createRegisteredModel(at(deps, model.creation_timestamp), { name: model.name, description: model.description, tags: model.tags });
  }
  const present = await rows<{ version: number | string }>(
    deps.db,
    sql`select v.version from model_versions v join registered_models m on m.id = v.registered_model_id where m.name = ${model.name}`,
  );
  const have = new Set(present.map((p) => Number(p.version)));
  for (const v of versions) {
    if (have.has(Number(v.version))) continue;
    const source = repoint(v.source, artifactUris);
    const created = await createModelVersion(at(deps, v.creation_timestamp), {
      name: v.name,
      source,
      run_id: v.run_id || undefined,
      run_link: v.run_link,
      description: v.description,
      tags: v.tags,
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
  await rows(deps.db, sql`update registered_models set creation_time = ${Number(model.creation_timestamp ?? deps.now())},
                              last_updated_time = ${Number(model.last_updated_timestamp ?? model.creation_timestamp ?? deps.now())}
                          where name = ${model.name}`);
}

/** A version's source below an imported run's artifact root now points at the copy in Cairn. */
function repoint(source: string, artifactUris: Map<string, string>): string {
  for (const [from, to] of artifactUris) {
    if (source === from || source.startsWith(`${from}/`)) return to + source.slice(from.length);
  }
  return source;
}
