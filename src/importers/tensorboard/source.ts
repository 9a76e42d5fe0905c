import { createHash } from 'node:crypto';
import { opendir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { PAGE, SourceError, type KV, type MlflowSource, type SrcExperiment, type SrcFile, type SrcMetric, type SrcRun, type SrcRunInfo } from '../mlflow/source.js';
import { decodeEvent, sessionStartHparams, type TbEvent, type TbHisto, type TbValue } from './events.js';
import { readRecords, RecordError } from './records.js';
import { ProtobufError } from './protobuf.js';

const EVENT_FILE = /tfevents/;

/** What one run folder holds, read in one pass over its event files (one run at a time is kept). */
interface Scanned {
  info: SrcRunInfo;
  scalars: Map<string, SrcMetric[]>;
  params: Map<string, string>;
  /** artifact path -> where its bytes are: an image inside a record, or a file made here (histograms) */
  files: Map<string, { size: number; image?: { file: string; offset: number; tag: string; nth: number }; bytes?: Buffer }>;
}

/** A TensorBoard tag as an MLflow key: characters MLflow refuses become '_', and it must not read as another path. */
export function safeKey(tag: string): string {
  const cleaned = tag.replace(/[^/\p{L}\p{N}_.\- :]/gu, '_');
  const parts = cleaned.split('/').filter((p) => p && p !== '.' && p !== '..');
  return (parts.join('/') || '_').slice(0, 250);
}

const imageExt = (b: Uint8Array) => (b[0] === 0x89 && b[1] === 0x50 ? 'png' : b[0] === 0xff && b[1] === 0xd8 ? 'jpg' : b[0] === 0x47 && b[1] === 0x49 ? 'gif' : 'bin');

/**
 * A TensorBoard log folder read as an MLflow source with one experiment: every folder below it that
 * holds event files (`*tfevents*`) is a run named by its path relative to the log folder, with a
 * stable id (so a second import finds it). Scalars (TF1 `simple_value` and TF2 `tensor` with the
 * `scalars` plugin) become metrics with their step and wall time; the hparams plugin's session
 * values become params; images become artifacts under `images/<tag>/`, histograms one JSON file per
 * tag under `histograms/`. A corrupt or truncated file is reported through `skip`, and the records
 * before the damage are kept.
 */
export class TensorBoardSource implements MlflowSource {
  skip: (what: string, why: string) => void = () => {};
  private current?: Scanned;
  private runDirs?: string[];

  private constructor(
    readonly label: string,
    private readonly root: string,
    private readonly experimentName: string,
  ) {}

  static async open(logdir: string, experimentName?: string): Promise<TensorBoardSource> {
    const root = resolve(logdir);
    const found = await stat(root).catch(() => undefined);
    if (!found?.isDirectory()) throw new SourceError(`${root} is not a folder (a TensorBoard --logdir)`);
    const src = new TensorBoardSource(root, root, experimentName || basename(root));
    await src.dirs(); // a folder without event files is refused before anything is written
    return src;
  }

  async close(): Promise<void> {}

  /** Folders holding event files, found depth-first in name order. */
  private async dirs(): Promise<string[]> {
    if (this.runDirs) return this.runDirs;
    const out: string[] = [];
    const walk = async (dir: string) => {
      const entries = [];
      for await (const e of await opendir(dir)) entries.push(e);
      entries.sort((a, b) => (a.name < b.name ? -1 : 1));
      if (entries.some((e) => e.isFile() && EVENT_FILE.test(e.name))) out.push(dir);
      for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name));
    };
    await walk(this.root);
    if (!out.length) throw new SourceError(`${this.root}: no TensorBoard event files (*tfevents*) in it or below it`);
    return (this.runDirs = out);
  }

  async *experiments(): AsyncGenerator<SrcExperiment> {
    yield { experiment_id: 'tensorboard', name: this.experimentName, lifecycle_stage: 'active', tags: [{ key: 'tensorboard.logdir', value: this.root }] };
  }

  async *runs(): AsyncGenerator<SrcRun> {
    for (const dir of await this.dirs()) {
      const s = await this.scan(dir);
      if (!s) continue;
      const name = relative(this.root, dir).split(sep).join('/') || basename(this.root);
      const tags: KV[] = [
        { key: 'mlflow.runName', value: name },
        { key: 'tensorboard.run', value: name },
      ];
      yield {
        info: s.info,
        data: { metrics: [...s.scalars.keys()].map((key) => ({ key })), params: [...s.params].map(([key, value]) => ({ key, value })), tags },
      };
    }
  }

  private runId(dir: string): string {
    return createHash('sha256').update(`${this.experimentName}\0${relative(this.root, dir)}`).digest('hex').slice(0, 32);
  }

  private async scan(dir: string): Promise<Scanned | undefined> {
    const id = this.runId(dir);
    if (this.current?.info.run_id === id) return this.current;
    const name = relative(this.root, dir).split(sep).join('/') || basename(this.root);
    const s: Scanned = {
      info: { run_id: id, run_name: name, experiment_id: 'tensorboard', status: 'FINISHED', artifact_uri: `file://${dir}`, lifecycle_stage: 'active', user_id: '' },
      scalars: new Map(),
      params: new Map(),
      files: new Map(),
    };
    const histograms = new Map<string, unknown[]>();
    let first = Infinity;
    let last = -Infinity;
    const files = [];
    for await (const e of await opendir(dir)) if (e.isFile() && EVENT_FILE.test(e.name)) files.push(e.name);
    for (const file of files.sort()) {
      const path = join(dir, file);
      try {
        for await (const rec of readRecords(path)) {
          const ev = decodeEvent(rec.data);
          if (!ev.values.length) continue;
          const ms = Math.round(ev.wallTime * 1000);
          first = Math.min(first, ms);
          last = Math.max(last, ms);
          ev.values.forEach((v) => this.take(s, histograms, path, rec.offset, ev, ms, v));
        }
      } catch (err) {
        if (!(err instanceof RecordError || err instanceof ProtobufError || (err as NodeJS.ErrnoException).code)) throw err;
        const why = err instanceof RecordError ? (err.truncated ? `truncated: ${err.message}` : `corrupt: ${err.message}`) : `unreadable: ${(err as Error).message}`;
        this.skip(`${path}`, `${why}; the records before it were imported`);
      }
    }
    for (const [tag, points] of histograms) {
      const bytes = Buffer.from(JSON.stringify(points));
      s.files.set(`histograms/${safeKey(tag)}.json`, { size: bytes.length, bytes });
    }
    if (first === Infinity && !s.files.size && !s.params.size) return undefined;
    if (first !== Infinity) Object.assign(s.info, { start_time: first, end_time: last });
    return (this.current = s);
  }

  private take(s: Scanned, histograms: Map<string, unknown[]>, file: string, offset: number, ev: TbEvent, ms: number, v: TbValue): void {
    const scalar = v.simple ?? (v.plugin === 'scalars' && v.tensor?.numbers.length ? v.tensor.numbers[0] : undefined);
    if (scalar !== undefined) {
      const key = safeKey(v.tag);
      const list = s.scalars.get(key) ?? [];
      list.push({ key, value: scalar, timestamp: ms, step: ev.step });
      s.scalars.set(key, list);
      return;
    }
    if (v.plugin === 'hparams' && v.pluginContent) {
      for (const [k, value] of sessionStartHparams(v.pluginContent) ?? []) s.params.set(safeKey(k), value);
      return;
    }
    const images = v.image ? [v.image] : v.plugin === 'images' && v.tensor ? v.tensor.strings.slice(2) : [];
    images.forEach((img, nth) => {
      let path = `images/${safeKey(v.tag)}/step-${ev.step}${images.length > 1 ? `-${nth}` : ''}.${imageExt(img)}`;
      for (let n = 1; s.files.has(path); n++) path = path.replace(/(-dup\d+)?(\.\w+)$/, `-dup${n}$2`);
      s.files.set(path, { size: img.length, image: { file, offset, tag: v.tag, nth } });
    });
    const histo: (TbHisto | { buckets: number[][] }) | undefined =
      v.histo ?? (v.plugin === 'histograms' && v.tensor ? { buckets: chunk(v.tensor.numbers, 3) } : undefined);
    if (histo) {
      const list = histograms.get(v.tag) ?? [];
      list.push({ step: ev.step, wall_time: ev.wallTime, ...histo });
      histograms.set(v.tag, list);
    }
  }

  async *metricHistory(run: SrcRunInfo, key: string): AsyncGenerator<SrcMetric[]> {
    const s = await this.scanned(run);
    const points = s.scalars.get(key) ?? [];
    for (let i = 0; i < points.length; i += PAGE) yield points.slice(i, i + PAGE);
  }

  async *artifactFiles(run: SrcRunInfo): AsyncGenerator<SrcFile> {
    const s = await this.scanned(run);
    for (const [path, f] of s.files) yield { path, is_dir: false, file_size: f.size };
  }

  async openArtifact(run: SrcRunInfo, path: string): Promise<Readable> {
    const f = (await this.scanned(run)).files.get(path);
    if (!f) throw new SourceError(`${run.run_name}: no artifact ${path}`);
    if (f.bytes) return Readable.from([f.bytes]);
    const { file, offset, tag, nth } = f.image!;
    for await (const rec of readRecords(file, offset, 1)) {
      const v = decodeEvent(rec.data).values.find((x) => x.tag === tag && (x.image || x.tensor));
      const img = v?.image ?? v?.tensor?.strings[nth + 2];
      if (img) return Readable.from([Buffer.from(img)]);
    }
    throw new SourceError(`${file}: the image '${tag}' at byte ${offset} is gone`);
  }

  private async scanned(run: SrcRunInfo): Promise<Scanned> {
    if (this.current?.info.run_id === run.run_id) return this.current;
    const dir = (await this.dirs()).find((d) => this.runId(d) === run.run_id);
    const s = dir && (await this.scan(dir));
    if (!s) throw new SourceError(`${this.root}: no run ${run.run_name}`);
    return s;
  }

  // TensorBoard has no logged or registered models.
  async *loggedModels() {}
  async *loggedModelFiles(): AsyncGenerator<SrcFile> {}
  async openLoggedModelArtifact(): Promise<Readable> {
    throw new SourceError('TensorBoard logs have no logged models');
  }
  async *registeredModels() {}
  async versions() {
    return [];
  }
}

function chunk(values: number[], n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + n <= values.length; i += n) out.push(values.slice(i, i + n));
  return out;
}
