import { createReadStream } from 'node:fs';
import { opendir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';
import { LocalArtifacts } from './local-artifacts.js';
import type * as S from './source.js';
import { byVersion, LOGGED_MODEL_STATUS_BY_NUMBER, optionalNumber, optionalString, PAGE, RUN_STATUS_BY_NUMBER, SourceError } from './source.js';

// Folders inside an experiment that are not runs (FileStore's reserved folders).
const NOT_RUNS = new Set(['tags', 'datasets', 'traces', 'models']);

type Yaml = Record<string, unknown>;

/**
 * An MLflow file store folder (`./mlruns`) read as MLflow's FileStore writes it: meta.yaml per
 * experiment, run, logged model, registered model and version; one file per param and tag (keys with
 * '/' are sub-folders); one line per metric point. Deleted experiments are under `.trash/`.
 */
export class MlflowFileSource implements S.MlflowSource {
  readonly label: string;
  skip: (what: string, why: string) => void = () => {};
  private readonly root: string;
  private readonly artifacts: LocalArtifacts;
  private readonly experimentDirs = new Map<string, string>();

  private constructor(root: string, proxiedArtifacts?: string) {
    this.root = root;
    this.label = root;
    this.artifacts = new LocalArtifacts(proxiedArtifacts, process.cwd());
  }

  static async open(folder: string, proxiedArtifacts?: string): Promise<MlflowFileSource> {
    const root = resolve(folder.startsWith('file://') ? fileURLToPath(folder) : folder.replace(/^file:/, ''));
    const found = await stat(root).catch(() => undefined);
    if (!found?.isDirectory()) throw new SourceError(`${root} is not a folder (an MLflow file store such as ./mlruns)`);
    return new MlflowFileSource(root, proxiedArtifacts);
  }

  async close(): Promise<void> {}

  private async readMeta(dir: string): Promise<Yaml | undefined> {
    const file = join(dir, 'meta.yaml');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      this.skip(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Yaml;
      this.skip(file, 'not a YAML mapping');
    } catch (err) {
      this.skip(file, `corrupt YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    return undefined;
  }

  /** One value per file below `dir`, keyed by the relative path ('/'-joined): params and tags. */
  private async keyFiles(dir: string): Promise<S.KV[]> {
    const out: S.KV[] = [];
    for (const key of await listKeys(dir)) out.push({ key, value: await readFile(join(dir, ...key.split('/')), 'utf8') });
    return out;
  }

  async *experiments(): AsyncGenerator<S.SrcExperiment> {
    const folders = [...(await subfolders(this.root)).filter((n) => n !== 'models' && !n.startsWith('.')).map((n) => join(this.root, n))];
    folders.push(...(await subfolders(join(this.root, '.trash'))).map((n) => join(this.root, '.trash', n)));
    for (const dir of folders) {
      const meta = await this.readMeta(dir);
      if (!meta || meta.name === undefined) continue;
      const id = String(meta.experiment_id);
      this.experimentDirs.set(id, dir);
      yield {
        experiment_id: id,
        name: String(meta.name),
        artifact_location: optionalString(meta.artifact_location),
        lifecycle_stage: optionalString(meta.lifecycle_stage) ?? 'active',
        creation_time: optionalNumber(meta.creation_time),
        last_update_time: optionalNumber(meta.last_update_time),
        tags: await this.keyFiles(join(dir, 'tags')),
      };
    }
  }

  async *runs(experimentId: string): AsyncGenerator<S.SrcRun> {
    const expDir = this.experimentDirs.get(experimentId);
    if (!expDir) return;
    const runs: S.SrcRun[] = [];
    for (const name of await subfolders(expDir)) {
      if (NOT_RUNS.has(name)) continue;
      const dir = join(expDir, name);
      const meta = await this.readMeta(dir);
      if (!meta) continue;
      const tags = await this.keyFiles(join(dir, 'tags'));
      const runId = String(meta.run_id ?? meta.run_uuid ?? name);
      runs.push({
        info: {
          run_id: runId,
          run_name: optionalString(meta.run_name) || tags.find((t) => t.key === 'mlflow.runName')?.value,
          experiment_id: experimentId,
          user_id: optionalString(meta.user_id),
          status: RUN_STATUS_BY_NUMBER[String(meta.status)] ?? String(meta.status ?? 'FINISHED'),
          start_time: optionalNumber(meta.start_time),
          end_time: optionalNumber(meta.end_time),
          artifact_uri: optionalString(meta.artifact_uri) ?? join(dir, 'artifacts'),
          lifecycle_stage: optionalString(meta.lifecycle_stage) ?? 'active',
        },
        data: { metrics: (await listKeys(join(dir, 'metrics'))).map((key) => ({ key })), params: await this.keyFiles(join(dir, 'params')), tags },
        inputs: { dataset_inputs: await this.datasetInputs(expDir, dir) },
      });
    }
    // A run's meta is small; the order (by start time) matches what search-runs gives the REST source.
    runs.sort((a, b) => (a.info.start_time ?? 0) - (b.info.start_time ?? 0));
    yield* runs;
  }

  private async datasetInputs(expDir: string, runDir: string): Promise<S.SrcDatasetInput[]> {
    const out: S.SrcDatasetInput[] = [];
    for (const id of await subfolders(join(runDir, 'inputs'))) {
      const input = await this.readMeta(join(runDir, 'inputs', id));
      if (!input || input.source_type !== 'DATASET') continue;
      const ds = await this.readMeta(join(expDir, 'datasets', String(input.source_id)));
      if (!ds) continue;
      const tags = Object.entries((input.tags as Yaml | null) ?? {}).map(([key, value]) => ({ key, value: String(value) }));
      out.push({
        tags,
        dataset: { name: String(ds.name), digest: String(ds.digest), source_type: String(ds.source_type), source: String(ds.source), schema: optionalString(ds.schema), profile: optionalString(ds.profile) },
      });
    }
    return out;
  }

  private runDir(run: S.SrcRunInfo): string {
    const expDir = this.experimentDirs.get(run.experiment_id);
    if (!expDir) throw new SourceError(`experiment ${run.experiment_id} of run ${run.run_id} was not listed`);
    return join(expDir, run.run_id);
  }

  metricHistory(run: S.SrcRunInfo, key: string): AsyncIterable<S.SrcMetric[]> {
    return this.metricLines(join(this.runDir(run), 'metrics', ...key.split('/')), key);
  }

  /** "<timestamp> <value> [<step> [<dataset name> <digest>]]", or with a run id when under a logged model. */
  private async *metricLines(file: string, key: string, modelId?: string): AsyncGenerator<(S.SrcMetric & { run_id?: string })[]> {
    let page: (S.SrcMetric & { run_id?: string })[] = [];
    let n = 0;
    let lines;
    try {
      lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      for await (const line of lines) {
        n++;
        if (!line.trim()) continue;
        const parts = line.trim().split(' ');
        const timestamp = Number(parts[0]);
        const value = parseValue(parts[1]);
        if (parts.length < 2 || !Number.isInteger(timestamp) || value === undefined || (parts[2] !== undefined && !/^-?\d+$/.test(parts[2]))) {
          this.skip(`${file}:${n}`, `malformed metric line '${line.slice(0, 80)}'`);
          continue;
        }
        const point: S.SrcMetric & { run_id?: string } = { key, value, timestamp, step: Number(parts[2] ?? 0) };
        if (modelId) {
          point.model_id = modelId;
          point.run_id = parts[3];
          if (parts.length >= 6) [point.dataset_name, point.dataset_digest] = [parts[4], parts[5]];
        } else if (parts.length >= 5) [point.dataset_name, point.dataset_digest] = [parts[3], parts[4]];
        page.push(point);
        if (page.length >= PAGE) {
          yield page;
          page = [];
        }
      }
    } catch (err) {
      this.skip(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    } finally {
      lines?.close();
    }
    if (page.length) yield page;
  }

  artifactFiles(run: S.SrcRunInfo): AsyncIterable<S.SrcFile> {
    return this.artifacts.files(run.artifact_uri);
  }

  openArtifact(run: S.SrcRunInfo, path: string): Promise<Readable> {
    return this.artifacts.open(run.artifact_uri, path);
  }

  async *loggedModels(experimentId: string): AsyncGenerator<S.SrcLoggedModel> {
    const expDir = this.experimentDirs.get(experimentId);
    if (!expDir) return;
    for (const id of await subfolders(join(expDir, 'models'))) {
      const dir = join(expDir, 'models', id);
      const meta = await this.readMeta(dir);
      if (!meta) continue;
      const modelId = String(meta.model_id ?? id);
      const metrics: (S.SrcMetric & { run_id: string })[] = [];
      for (const key of await listKeys(join(dir, 'metrics'))) {
        for await (const page of this.metricLines(join(dir, 'metrics', ...key.split('/')), key, modelId)) {
          for (const p of page) if (p.run_id) metrics.push(p as S.SrcMetric & { run_id: string });
        }
      }
      yield {
        model_id: modelId,
        experiment_id: experimentId,
        name: String(meta.name ?? modelId),
        artifact_uri: optionalString(meta.artifact_location) ?? join(dir, 'artifacts'),
        creation_timestamp_ms: optionalNumber(meta.creation_timestamp),
        last_updated_timestamp_ms: optionalNumber(meta.last_updated_timestamp),
        status: LOGGED_MODEL_STATUS_BY_NUMBER[String(meta.status)] ?? 'READY',
        lifecycle_stage: optionalString(meta.lifecycle_stage) ?? 'active',
        model_type: optionalString(meta.model_type),
        source_run_id: optionalString(meta.source_run_id),
        status_message: optionalString(meta.status_message),
        tags: await this.keyFiles(join(dir, 'tags')),
        params: await this.keyFiles(join(dir, 'params')),
        metrics,
      };
    }
  }

  loggedModelFiles(model: S.SrcLoggedModel): AsyncIterable<S.SrcFile> {
    return this.artifacts.files(model.artifact_uri);
  }

  openLoggedModelArtifact(model: S.SrcLoggedModel, path: string): Promise<Readable> {
    return this.artifacts.open(model.artifact_uri, path);
  }

  async *registeredModels(): AsyncGenerator<S.SrcModel> {
    const modelsDir = join(this.root, 'models');
    for (const name of await subfolders(modelsDir)) {
      const dir = join(modelsDir, name);
      const meta = await this.readMeta(dir);
      if (!meta) continue;
      const aliases = Object.entries((meta.aliases as Yaml | null) ?? {}).map(([alias, version]) => ({ alias, version: String(version) }));
      yield {
        name: String(meta.name ?? name),
        creation_timestamp: optionalNumber(meta.creation_timestamp),
        last_updated_timestamp: optionalNumber(meta.last_updated_timestamp),
        description: optionalString(meta.description),
        tags: await this.keyFiles(join(dir, 'tags')),
        aliases,
      };
    }
  }

  async versions(model: S.SrcModel): Promise<S.SrcVersion[]> {
    const name = model.name;
    const dir = join(this.root, 'models', name);
    const out: S.SrcVersion[] = [];
    for (const folder of await subfolders(dir)) {
      if (!folder.startsWith('version-')) continue;
      const meta = await this.readMeta(join(dir, folder));
      if (!meta || meta.current_stage === 'Deleted_Internal') continue;
      out.push({
        name,
        version: String(meta.version),
        creation_timestamp: optionalNumber(meta.creation_timestamp),
        last_updated_timestamp: optionalNumber(meta.last_updated_timestamp),
        description: optionalString(meta.description),
        current_stage: optionalString(meta.current_stage),
        source: String(meta.source ?? ''),
        run_id: optionalString(meta.run_id),
        run_link: optionalString(meta.run_link),
        model_id: optionalString(meta.model_id),
        tags: await this.keyFiles(join(dir, folder, 'tags')),
      });
    }
    return out.sort(byVersion);
  }
}

/** nan, inf and -inf as Python's float() writes them; undefined when not a number. */
function parseValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  const n = Number(text);
  return text.trim() === '' || Number.isNaN(n) ? undefined : n;
}

async function subfolders(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of await opendir(dir)) if (e.isDirectory()) out.push(e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SourceError(`cannot read ${dir}: ${(err as Error).message}`);
  }
  return out.sort();
}

/** Relative paths of the files below `dir` ('/'-joined: a metric or tag key with '/' is a sub-folder). */
async function listKeys(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of await opendir(dir)) {
      if (e.isDirectory()) out.push(...(await listKeys(join(dir, e.name), `${prefix}${e.name}/`)));
      else if (e.isFile()) out.push(`${prefix}${e.name}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new SourceError(`cannot read ${dir}: ${(err as Error).message}`);
  }
  return out.sort();
}
