import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Progress } from '../progress.js';
import { attempt, countFile, emptySummary, runPhases, type TransferSummary } from '../transfer.js';
import { SourceError, type KV, type MlflowSource, type SrcExperiment, type SrcRun } from './source.js';

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

/**
 * Writes an MLflow source (Cairn's store) as a folder in mlflow-export-import's layout for
 * experiments (what its `export-experiments` writes, `import-experiments` and, per experiment folder,
 * `import-experiment` read): `experiments.json`, and per experiment `<id>/experiment.json` and per
 * run `<id>/<run id>/run.json` (info, params, every metric point, tags) with its files under
 * `artifacts/`. Deleted experiments and runs are left out (the layout has no lifecycle), as the tool's
 * own export does. Writing again overwrites the JSON files and skips artifacts of the same size.
 */
export async function exportToFolder(src: MlflowSource, folder: string, opts: { dryRun: boolean; progress: Progress }): Promise<TransferSummary> {
  const root = resolve(folder);
  const summary = emptySummary();
  const listed: { id: string; name: string }[] = [];
  await runPhases(src, summary, { progress: opts.progress, skippable }, {
    experiment: async (exp) => {
      if (exp.lifecycle_stage === 'deleted') return void summary.skipped.push({ what: `experiment '${exp.name}'`, why: 'deleted (the folder layout has no lifecycle)' });
      summary.experiments++;
      listed.push({ id: exp.experiment_id, name: exp.name });
      await exportExperiment(src, join(root, exp.experiment_id), exp, opts.dryRun, summary);
    },
    model: async (m) => void summary.skipped.push({ what: `registered model '${m.name}'`, why: 'registered models are not written to the folder layout yet (use cairn export mlflow <url>)' }),
  });
  if (!opts.dryRun) {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'experiments.json'), exportFile({ experiments: listed }, { experiments: listed.length }));
  }
  return summary;
}

async function exportExperiment(src: MlflowSource, dir: string, exp: SrcExperiment, dryRun: boolean, summary: TransferSummary): Promise<void> {
  const runIds: string[] = [];
  for await (const run of src.runs(exp.experiment_id)) {
    if (run.info.lifecycle_stage === 'deleted') {
      summary.skipped.push({ what: `run ${run.info.run_id}`, why: 'deleted (the folder layout has no lifecycle)' });
      continue;
    }
    await attempt(summary, skippable, `run ${run.info.run_id}`, async () => {
      await exportRun(src, join(dir, run.info.run_id), run, dryRun, summary);
      runIds.push(run.info.run_id);
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
