import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Progress } from '../progress.js';
import { attempt, countFile, emptySummary, runPhases, type TransferSummary } from '../transfer.js';
import { SourceError, byVersion, isPrompt, type KV, type MlflowSource, type SrcExperiment, type SrcModel, type SrcRun, type SrcVersion } from './source.js';

const skippable = (err: unknown) => err instanceof SourceError;
const asObject = (list: KV[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.key, t.value ?? '']));

/**
 * JSON as Python's json module writes it: NaN and ±Infinity as bare tokens (mlflow-export-import
 * reads run.json with json.load, which takes them; JSON.stringify would write null).
 */
function pythonJson(value: unknown): string {
  const marks = new Map<string, string>();
  const text = JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v !== 'number' || Number.isFinite(v)) return v;
      const mark = `\u0000${String(v)}\u0000`;
      marks.set(JSON.stringify(mark), Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
      return mark;
    },
    2,
  );
  let out = text;
  for (const [quoted, token] of marks) out = out.split(quoted).join(token);
  return `${out}\n`;
}

const exportFile = (mlflow: unknown, info?: unknown) =>
  pythonJson({ system: { package_version: 'cairn', script: 'cairn export mlflow-export-import', export_time: Math.floor(Date.now() / 1000) }, ...(info ? { info } : {}), mlflow });

/** A run written to the folder: what a model version registered from it needs. */
interface WrittenRun {
  experimentName: string;
  artifactUri: string;
  /** Its files in the folder. */
  artifactsDir: string;
}

/**
 * Writes an MLflow source (Cairn's store) as a folder in mlflow-export-import's layout, the one its
 * `export-all` writes and its `import-models` reads (`import-experiments` reads `experiments/`):
 * `experiments/experiments.json`, per experiment `experiments/<id>/experiment.json` and per run
 * `experiments/<id>/<run id>/run.json` (info, params, every metric point, tags) with its files under
 * `artifacts/`; and `models/models.json` with, per registered model, `models/<name>/model.json` (its
 * description, tags, aliases and every version with its stage, description, tags, aliases and run).
 * Deleted experiments and runs are left out (the layout has no lifecycle), as the tool's own export
 * does. Writing again overwrites the JSON files and skips artifacts of the same size.
 */
export async function exportToFolder(src: MlflowSource, folder: string, opts: { dryRun: boolean; progress: Progress }): Promise<TransferSummary> {
  const root = resolve(folder);
  const summary = emptySummary();
  const listed: { id: string; name: string }[] = [];
  const written = new Map<string, WrittenRun>();
  const models: string[] = [];
  await runPhases(src, summary, { progress: opts.progress, skippable }, {
    experiment: async (exp) => {
      if (exp.lifecycle_stage === 'deleted') return void summary.skipped.push({ what: `experiment '${exp.name}'`, why: 'deleted (the folder layout has no lifecycle)' });
      summary.experiments++;
      listed.push({ id: exp.experiment_id, name: exp.name });
      await exportExperiment(src, join(root, 'experiments', exp.experiment_id), exp, opts.dryRun, summary, written);
    },
    model: async (m) => {
      if (isPrompt(m)) return void summary.skipped.push({ what: `prompt '${m.name}'`, why: "mlflow-export-import's folder layout (release 1.2.0) has no place for prompts (use cairn export mlflow <url>)" });
      if (await exportModel(src, join(root, 'models'), m, opts.dryRun, summary, written)) models.push(m.name);
    },
  });
  if (!opts.dryRun) {
    await mkdir(join(root, 'models'), { recursive: true });
    await writeFile(join(root, 'experiments', 'experiments.json'), exportFile({ experiments: listed }, { experiments: listed.length }));
    await writeFile(join(root, 'models', 'models.json'), exportFile({ models }, { num_total_models: models.length, num_ok_models: models.length, num_failed_models: 0, failed_models: [] }));
  }
  return summary;
}

/**
 * A version's path below its run's artifacts, from a `runs:/<run>/<path>` source or one under the
 * run's artifact URI; undefined for any other source (a logged model's, a path elsewhere).
 */
function pathInRun(v: SrcVersion, run: WrittenRun): string | undefined {
  const runs = `runs:/${v.run_id}/`;
  if (v.source.startsWith(runs)) return v.source.slice(runs.length);
  if (v.source === run.artifactUri) return '';
  if (v.source.startsWith(`${run.artifactUri}/`)) return v.source.slice(run.artifactUri.length + 1);
  return undefined;
}

/**
 * `models/<name>/model.json`, as the tool's export writes it. The tool's import re-registers a
 * version from its run's copy, taking the model's path from the version's `source` (the part after
 * `artifacts/`): the source written is the version's files in this folder's copy of the run. A
 * version whose files are not below its run's artifacts (a logged model's `models:/m-…`, no run, a
 * deleted run) has no place in the layout and is listed as skipped.
 */
async function exportModel(src: MlflowSource, dir: string, m: SrcModel, dryRun: boolean, summary: TransferSummary, written: Map<string, WrittenRun>): Promise<boolean> {
  const versions = [];
  for (const v of (await src.versions(m)).sort(byVersion)) {
    const run = v.run_id ? written.get(v.run_id) : undefined;
    const path = run && pathInRun(v, run);
    if (!run || path === undefined) {
      const why = !v.run_id ? 'no run' : !run ? `its run ${v.run_id} is not in the folder (deleted)` : `its source ${v.source} is not below its run's artifacts`;
      summary.skipped.push({ what: `version ${v.version} of '${m.name}'`, why: `${why}: the folder layout re-registers a version from its run's files` });
      continue;
    }
    summary.versions++;
    versions.push({
      name: m.name, version: v.version, creation_timestamp: num(v.creation_timestamp), last_updated_timestamp: num(v.last_updated_timestamp),
      current_stage: v.current_stage ?? 'None', description: v.description ?? '', source: path ? join(run.artifactsDir, path) : run.artifactsDir,
      run_id: v.run_id, run_link: v.run_link ?? '', status: 'READY', tags: asObject(v.tags),
      aliases: (m.aliases ?? []).filter((a) => a.version === v.version).map((a) => a.alias),
      _run_artifact_uri: run.artifactUri, _experiment_name: run.experimentName,
    });
  }
  summary.models++;
  if (dryRun) return true;
  const target = resolve(dir, m.name);
  if (!target.startsWith(dir + sep)) throw new SourceError(`registered model '${m.name}': its name leaves the models folder`);
  await mkdir(target, { recursive: true });
  const registered = {
    name: m.name, creation_timestamp: num(m.creation_timestamp), last_updated_timestamp: num(m.last_updated_timestamp),
    description: m.description ?? '', tags: (m.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })), aliases: m.aliases ?? [], versions,
  };
  await writeFile(join(target, 'model.json'), exportFile({ registered_model: registered }, { num_src_versions: versions.length, num_dst_versions: versions.length, failed_versions: [] }));
  return true;
}

async function exportExperiment(src: MlflowSource, dir: string, exp: SrcExperiment, dryRun: boolean, summary: TransferSummary, written: Map<string, WrittenRun>): Promise<void> {
  const runIds: string[] = [];
  for await (const run of src.runs(exp.experiment_id)) {
    if (run.info.lifecycle_stage === 'deleted') {
      summary.skipped.push({ what: `run ${run.info.run_id}`, why: 'deleted (the folder layout has no lifecycle)' });
      continue;
    }
    await attempt(summary, skippable, `run ${run.info.run_id}`, async () => {
      await exportRun(src, join(dir, run.info.run_id), run, dryRun, summary);
      runIds.push(run.info.run_id);
      written.set(run.info.run_id, { experimentName: exp.name, artifactUri: run.info.artifact_uri, artifactsDir: join(dir, run.info.run_id, 'artifacts') });
    });
  }
  if (dryRun) return;
  await mkdir(dir, { recursive: true });
  const experiment = { experiment_id: exp.experiment_id, name: exp.name, artifact_location: exp.artifact_location, lifecycle_stage: exp.lifecycle_stage, creation_time: exp.creation_time, last_update_time: exp.last_update_time, tags: asObject(exp.tags) };
  await writeFile(join(dir, 'experiment.json'), exportFile({ experiment, runs: runIds }, { num_total_runs: runIds.length, num_ok_runs: runIds.length, num_failed_runs: 0, failed_runs: [] }));
}

async function exportRun(src: MlflowSource, dir: string, run: SrcRun, dryRun: boolean, summary: TransferSummary): Promise<void> {
  summary.runs++;
  const metrics: Record<string, { value: number; timestamp: number; step: number }[]> = {};
  for (const m of run.data.metrics ?? []) {
    const points: { value: number; timestamp: number; step: number }[] = (metrics[m.key] = []);
    for await (const page of src.metricHistory(run.info, m.key)) {
      for (const p of page) points.push({ value: Number(p.value), timestamp: Number(p.timestamp), step: Number(p.step ?? 0) });
      summary.metricPoints += page.length;
    }
  }
  const info = { ...run.info, start_time: num(run.info.start_time), end_time: num(run.info.end_time) };
  if (!dryRun) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), exportFile({ info, params: asObject(run.data.params), metrics, tags: asObject(run.data.tags), inputs: run.inputs ?? {} }));
  }
  const artifacts = join(dir, 'artifacts');
  for await (const f of src.artifactFiles(run.info)) {
    countFile(summary, f);
    if (dryRun) continue;
    const target = resolve(artifacts, f.path);
    if (!target.startsWith(artifacts + sep)) throw new SourceError(`run ${run.info.run_id}: artifact path '${f.path}' leaves its folder`);
    const have = await stat(target).then((s) => s.size, () => -1);
    if (have === Number(f.file_size ?? -2)) continue;
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await src.openArtifact(run.info, f.path), createWriteStream(target));
  }
}

const num = (v: unknown) => (v === undefined || v === null ? null : Number(v));
