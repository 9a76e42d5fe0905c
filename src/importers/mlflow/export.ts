import type { Progress } from '../progress.js';
import { attempt, countFile, emptySummary, readAhead, repointArtifacts, runPhases, type TransferSummary } from '../transfer.js';
import { MlflowRestClient, RestError } from './rest-client.js';
import { MlflowRestSource } from './rest-source.js';
import { SourceError, type KV, type MlflowSource, type SrcExperiment, type SrcFile, type SrcLoggedModel, type SrcMetric, type SrcModel, type SrcRun } from './source.js';

/** Tags that tie a destination run or logged model to its source, so a re-run finds it (REST cannot keep ids). */
export const SOURCE_RUN_TAG = 'cairn.export.source_run_id';
export const SOURCE_MODEL_TAG = 'cairn.export.source_model_id';

const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';
const BATCH = { metrics: 1000, params: 100, tags: 100 };

export type ExportSummary = TransferSummary;

interface Ctx {
  src: MlflowSource;
  dst: MlflowRestClient;
  /** the destination read through the same calls as an import source */
  dstRead: MlflowRestSource;
  dryRun: boolean;
  progress: Progress;
  summary: ExportSummary;
  /** source artifact URI -> destination's; source run id -> destination's; source model id -> destination's */
  artifactUris: Map<string, string>;
  runIds: Map<string, string>;
  modelIds: Map<string, string>;
  /** destination logged model id -> the source's mlflow.modelVersions tag, set again once versions exist */
  versionTags: Map<string, string>;
}

const skippable = (err: unknown) => err instanceof SourceError;

/**
 * Writes everything an MLflow source holds into an MLflow tracking server through its public REST
 * API. Ids are the destination's (REST has no way to choose them): runs and logged models carry the
 * source's id in a tag, and a re-run finds them by it. Times that REST accepts (run start and end,
 * metric timestamps) are kept; every call is idempotent (metrics duplicated by log-batch are dropped by
 * MLflow, params are written with the same value, artifacts of the same size are not uploaded again),
 * and a run's deletion is its last step, so a killed export is resumed by running it again.
 */
export async function exportToMlflow(src: MlflowSource, dst: MlflowRestClient, opts: { dryRun: boolean; progress: Progress }): Promise<ExportSummary> {
  const summary = emptySummary();
  const ctx: Ctx = { src, dst, dstRead: new MlflowRestSource(dst), dryRun: opts.dryRun, progress: opts.progress, summary, artifactUris: new Map(), runIds: new Map(), modelIds: new Map(), versionTags: new Map() };
  await runPhases(src, summary, { progress: opts.progress, skippable }, { experiment: (e) => exportExperiment(ctx, e), model: (m) => exportModel(ctx, m) });
  // Registering a version rewrites a logged model's mlflow.modelVersions on the destination: the source's value wins.
  for (const [modelId, value] of ctx.versionTags) {
    await dst.call(`/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}/tags`, { method: 'PATCH', body: { model_id: modelId, tags: [{ key: MODEL_VERSIONS_TAG, value }] } });
  }
  return summary;
}

const isCode = (err: unknown, code: string) => err instanceof RestError && err.errorCode === code;

async function exportExperiment(ctx: Ctx, exp: SrcExperiment): Promise<void> {
  const { dst, summary } = ctx;
  let existing: { experiment_id: string; lifecycle_stage: string } | undefined;
  try {
    existing = (await dst.call('/api/2.0/mlflow/experiments/get-by-name', { query: { experiment_name: exp.name } })).experiment;
  } catch (err) {
    if (!isCode(err, 'RESOURCE_DOES_NOT_EXIST')) throw err;
  }
  if (existing?.lifecycle_stage === 'deleted') return; // deleted last: already complete
  summary.experiments++;
  let destId = existing?.experiment_id;
  if (!ctx.dryRun) {
    if (!destId) destId = String((await dst.call('/api/2.0/mlflow/experiments/create', { method: 'POST', body: { name: exp.name, tags: exp.tags ?? [] } })).experiment_id);
    for (const t of exp.tags ?? []) await dst.call('/api/2.0/mlflow/experiments/set-experiment-tag', { method: 'POST', body: { experiment_id: destId, key: t.key, value: t.value ?? '' } });
  }
  const loggedModels: SrcLoggedModel[] = [];
  for await (const m of ctx.src.loggedModels(exp.experiment_id)) loggedModels.push(m);
  const existingRuns = new Map<string, SrcRun>();
  if (destId) for await (const r of ctx.dstRead.runs(destId)) {
    const from = r.data.tags?.find((t) => t.key === SOURCE_RUN_TAG)?.value;
    if (from) existingRuns.set(from, r);
  }
  const deferred: { run: SrcRun; destRunId: string }[] = [];
  for await (const run of ctx.src.runs(exp.experiment_id)) {
    await attempt(summary, skippable, `run ${run.info.run_id}`, async () => {
      const done = await exportRun(ctx, run, destId, existingRuns.get(run.info.run_id));
      if (done) deferred.push(done);
    });
  }
  for (const m of loggedModels) await attempt(summary, skippable, `logged model ${m.model_id}`, () => exportLoggedModel(ctx, m, destId));
  // Runs end after their logged models' metrics are in (a finished run still takes them; a deleted one does not).
  for (const { run, destRunId } of deferred) await finishRun(ctx, run, destRunId);
  if (!ctx.dryRun && destId && exp.lifecycle_stage === 'deleted') await dst.call('/api/2.0/mlflow/experiments/delete', { method: 'POST', body: { experiment_id: destId } });
}

async function exportRun(ctx: Ctx, run: SrcRun, destExperimentId: string | undefined, found: SrcRun | undefined): Promise<{ run: SrcRun; destRunId: string } | undefined> {
  const { dst, src, summary } = ctx;
  const { info, data } = run;
  if (found) {
    ctx.runIds.set(info.run_id, found.info.run_id);
    ctx.artifactUris.set(info.artifact_uri, found.info.artifact_uri);
    if (found.info.lifecycle_stage === 'deleted') return undefined;
  }
  summary.runs++;
  if (ctx.dryRun || !destExperimentId) {
    for (const m of data.metrics ?? []) for await (const page of src.metricHistory(info, m.key)) summary.metricPoints += page.length;
    for await (const f of src.artifactFiles(info)) countFile(summary, f);
    return undefined;
  }
  let dest = found?.info;
  if (!dest) {
    const tags = [...(data.tags ?? []), { key: SOURCE_RUN_TAG, value: info.run_id }];
    dest = (
      await dst.call('/api/2.0/mlflow/runs/create', {
        method: 'POST',
        body: { experiment_id: destExperimentId, run_name: info.run_name, user_id: info.user_id, start_time: info.start_time, tags: tags.slice(0, BATCH.tags) },
      })
    ).run.info as SrcRun['info'];
  }
  ctx.runIds.set(info.run_id, dest.run_id);
  ctx.artifactUris.set(info.artifact_uri, dest.artifact_uri);
  const runId = dest.run_id;
  for (let i = 0; i < (data.params ?? []).length; i += BATCH.params) await logBatch(dst, runId, { params: data.params!.slice(i, i + BATCH.params) });
  for (let i = 0; i < (data.tags ?? []).length; i += BATCH.tags) await logBatch(dst, runId, { tags: data.tags!.slice(i, i + BATCH.tags) });
  for (const m of data.metrics ?? []) {
    // The next page is read while this one is sent, so Cairn's reads overlap the destination's writes.
    const pages = readAhead(src.metricHistory(info, m.key));
    try {
      for await (const page of pages) {
        await logMetrics(dst, runId, page);
        summary.metricPoints += page.length;
      }
    } finally {
      pages.close();
    }
  }
  const datasets = run.inputs?.dataset_inputs ?? [];
  if (datasets.length) await dst.call('/api/2.0/mlflow/runs/log-inputs', { method: 'POST', body: { run_id: runId, datasets } });
  await uploadFiles(ctx, src.artifactFiles(info), (p) => src.openArtifact(info, p), dest.artifact_uri, ctx.dstRead.artifactFiles(dest), `run ${info.run_id}`);
  return { run, destRunId: runId };
}

async function finishRun(ctx: Ctx, run: SrcRun, destRunId: string): Promise<void> {
  const { info } = run;
  await ctx.dst.call('/api/2.0/mlflow/runs/update', { method: 'POST', body: { run_id: destRunId, status: info.status, end_time: info.end_time ?? undefined, run_name: info.run_name } });
  if (info.lifecycle_stage === 'deleted') await ctx.dst.call('/api/2.0/mlflow/runs/delete', { method: 'POST', body: { run_id: destRunId } });
}

function logBatch(dst: MlflowRestClient, runId: string, batch: { params?: KV[]; tags?: KV[]; metrics?: unknown[] }): Promise<unknown> {
  return dst.call('/api/2.0/mlflow/runs/log-batch', { method: 'POST', body: { run_id: runId, ...batch } });
}

async function logMetrics(dst: MlflowRestClient, runId: string, points: SrcMetric[], modelIds?: Map<string, string>): Promise<void> {
  for (let i = 0; i < points.length; i += BATCH.metrics) {
    const metrics = points.slice(i, i + BATCH.metrics).map((p) => ({
      key: p.key,
      // JSON has no NaN/Infinity: MLflow's parser takes them as these strings.
      value: typeof p.value === 'number' && !Number.isFinite(p.value) ? String(p.value) : p.value,
      timestamp: p.timestamp,
      step: p.step ?? 0,
      // A run's own history names no model: the destination's model does not exist yet (its id is new),
      // and the logged model's points are sent again with its new id once it does.
      ...(p.model_id && modelIds?.has(p.model_id) ? { model_id: modelIds.get(p.model_id) } : {}),
      ...(p.dataset_name ? { dataset_name: p.dataset_name, dataset_digest: p.dataset_digest } : {}),
    }));
    await logBatch(dst, runId, { metrics });
  }
}

async function exportLoggedModel(ctx: Ctx, m: SrcLoggedModel, destExperimentId: string | undefined): Promise<void> {
  const { dst, src, summary } = ctx;
  summary.loggedModels++;
  if (ctx.dryRun || !destExperimentId) {
    for await (const f of src.loggedModelFiles(m)) countFile(summary, f);
    return;
  }
  let dest: { model_id: string; artifact_uri: string } | undefined;
  for await (const d of ctx.dstRead.loggedModels(destExperimentId)) {
    if (d.tags?.some((t) => t.key === SOURCE_MODEL_TAG && t.value === m.model_id)) dest = d;
  }
  if (!dest) {
    dest = (
      await dst.call('/api/2.0/mlflow/logged-models', {
        method: 'POST',
        body: {
          experiment_id: destExperimentId,
          name: m.name,
          model_type: m.model_type,
          source_run_id: m.source_run_id ? ctx.runIds.get(m.source_run_id) : undefined,
          params: m.params,
          // mlflow.modelVersions comes as it is: the destination adds a version to it only when not listed.
          tags: [...(m.tags ?? []), { key: SOURCE_MODEL_TAG, value: m.model_id }],
        },
      })
    ).model.info;
  }
  ctx.modelIds.set(m.model_id, dest!.model_id);
  const versionsTag = m.tags?.find((t) => t.key === MODEL_VERSIONS_TAG)?.value;
  if (versionsTag !== undefined) ctx.versionTags.set(dest!.model_id, versionsTag);
  ctx.artifactUris.set(m.artifact_uri, dest!.artifact_uri);
  await uploadFiles(ctx, src.loggedModelFiles(m), (p) => src.openLoggedModelArtifact(m, p), dest!.artifact_uri, ctx.dstRead.loggedModelFiles({ ...m, model_id: dest!.model_id }), `logged model ${m.model_id}`);
  const byRun = new Map<string, SrcMetric[]>();
  for (const p of m.metrics ?? []) byRun.set(p.run_id, [...(byRun.get(p.run_id) ?? []), p]);
  for (const [runId, points] of byRun) {
    const destRun = ctx.runIds.get(runId);
    if (destRun) await logMetrics(dst, destRun, points, ctx.modelIds);
  }
  const status = { READY: 'LOGGED_MODEL_READY', FAILED: 'LOGGED_MODEL_UPLOAD_FAILED', PENDING: 'LOGGED_MODEL_PENDING' }[m.status];
  if (status && status !== 'LOGGED_MODEL_PENDING') {
    await dst.call(`/api/2.0/mlflow/logged-models/${encodeURIComponent(dest!.model_id)}`, { method: 'PATCH', body: { model_id: dest!.model_id, status } });
  }
}

/** Uploads through the destination's proxied artifact API (`mlflow server`'s default); same size = already there. */
async function uploadFiles(
  ctx: Ctx,
  files: AsyncIterable<SrcFile>,
  open: (path: string) => Promise<import('node:stream').Readable>,
  destUri: string,
  existing: AsyncIterable<SrcFile>,
  owner: string,
): Promise<void> {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(destUri);
  if (!m) {
    ctx.summary.skipped.push({ what: `artifacts of ${owner}`, why: `the destination stores them at ${destUri}, not behind its artifact proxy (start it with --serve-artifacts)` });
    return;
  }
  const have = new Map<string, number>();
  for await (const f of existing) have.set(f.path, Number(f.file_size ?? -1));
  for await (const f of files) {
    const size = Number(f.file_size ?? -1);
    if (have.get(f.path) !== size || size < 0) {
      const path = `/api/2.0/mlflow-artifacts/artifacts/${m[1].replace(/\/+$/, '')}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
      await ctx.dst.upload(path, await open(f.path), size);
    }
    countFile(ctx.summary, f);
  }
}

async function exportModel(ctx: Ctx, model: SrcModel): Promise<void> {
  const { dst, src, summary } = ctx;
  const versions = await src.versions(model);
  summary.models++;
  summary.versions += versions.length;
  if (ctx.dryRun) return;
  try {
    await dst.call('/api/2.0/mlflow/registered-models/create', { method: 'POST', body: { name: model.name, tags: model.tags ?? [], description: model.description } });
  } catch (err) {
    if (!isCode(err, 'RESOURCE_ALREADY_EXISTS')) throw err;
  }
  const have = new Set((await ctx.dstRead.versions(model)).map((v) => v.version));
  for (const v of versions) {
    if (have.has(v.version)) continue;
    const modelId = v.model_id || /^models:\/(m-[\w-]+)$/.exec(v.source)?.[1];
    const created = (
      await dst.call('/api/2.0/mlflow/model-versions/create', {
        method: 'POST',
        body: {
          name: v.name,
          source: repoint(v.source, ctx),
          run_id: v.run_id ? (ctx.runIds.get(v.run_id) ?? undefined) : undefined,
          run_link: v.run_link || undefined,
          description: v.description || undefined,
          tags: v.tags ?? [],
          model_id: modelId ? ctx.modelIds.get(modelId) : undefined,
        },
      })
    ).model_version;
    if (String(created.version) !== String(v.version)) {
      summary.skipped.push({ what: `version ${v.version} of '${v.name}'`, why: `arrived as version ${created.version} (the source has gaps in its numbering)` });
    }
    if (v.current_stage && v.current_stage !== 'None') {
      await dst.call('/api/2.0/mlflow/model-versions/transition-stage', {
        method: 'POST',
        body: { name: v.name, version: String(created.version), stage: v.current_stage, archive_existing_versions: false },
      });
    }
  }
  for (const v of versions) {
    for (const t of v.tags ?? []) await dst.call('/api/2.0/mlflow/model-versions/set-tag', { method: 'POST', body: { name: v.name, version: v.version, key: t.key, value: t.value ?? '' } });
    if (v.description) await dst.call('/api/2.0/mlflow/model-versions/update', { method: 'PATCH', body: { name: v.name, version: v.version, description: v.description } });
  }
  for (const t of model.tags ?? []) await dst.call('/api/2.0/mlflow/registered-models/set-tag', { method: 'POST', body: { name: model.name, key: t.key, value: t.value ?? '' } });
  for (const a of model.aliases ?? []) await dst.call('/api/2.0/mlflow/registered-models/alias', { method: 'POST', body: { name: model.name, alias: a.alias, version: a.version } });
}

/** A source below an exported run's or logged model's artifacts points at the destination's copy; models:/m-… at its new id. */
function repoint(source: string, ctx: Ctx): string {
  const m = /^models:\/(m-[\w-]+)$/.exec(source);
  if (m) return `models:/${ctx.modelIds.get(m[1]) ?? m[1]}`;
  return repointArtifacts(source, ctx.artifactUris);
}
