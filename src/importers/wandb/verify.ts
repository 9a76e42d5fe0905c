import { createHash } from 'node:crypto';
import { flattenRow } from '../../domain/wandb/flatten.js';
import { parseWandbObject, stringifyWandbJson } from '../../domain/wandb/json.js';
import { SourceError } from '../mlflow/source.js';
import type { VerifyRow } from '../mlflow/verify.js';
import { WandbArtifactSource, type WandbSrcVersion } from './artifact-source.js';
import type { WandbServerSource, WandbSrcRun } from './server-source.js';

/** What a W&B verify reads of a source run: a server, or an offline folder decoded the same way. */
type RunReader = Pick<WandbServerSource, 'history' | 'events' | 'files'>;

/**
 * One history row as the public API serves it (nested dicts flattened, as W&B's backend does), keys
 * sorted: a server may write a row's keys in another order, and an offline log holds them nested.
 */
function canonical(line: string): string {
  const flat = flattenRow(parseWandbObject(line, 'history line'));
  return stringifyWandbJson(Object.fromEntries(Object.keys(flat).sort().map((k) => [k, flat[k]])));
}

async function historyDigest(src: RunReader, run: WandbSrcRun): Promise<{ rows: number; digest: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const page of src.history(run)) {
    for (const line of page) hash.update(canonical(line) + '\n');
    rows += page.length;
  }
  return { rows, digest: hash.digest('hex').slice(0, 16) };
}

async function fileSizes(src: RunReader, run: WandbSrcRun): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const f of src.files(run)) out.set(f.name, f.sizeBytes);
  return out;
}

export class WandbVerifier {
  readonly differences: VerifyRow[] = [];
  checked = 0;

  constructor(private readonly dst: WandbServerSource) {}

  private check(what: string, a: unknown, b: unknown): void {
    this.checked++;
    if (String(a) !== String(b)) this.differences.push({ what, source: String(a), destination: String(b) });
  }

  private readonly destRuns = new Map<string, Map<string, WandbSrcRun>>();

  private async destRun(entity: string, project: string, name: string): Promise<WandbSrcRun | undefined> {
    const key = `${entity}/${project}`;
    let have = this.destRuns.get(key);
    if (!have) {
      have = new Map();
      try {
        for await (const r of this.dst.runs(entity, project)) have.set(r.name, r);
      } catch (err) {
        // A project missing from Cairn: its runs are reported missing.
        if (!(err instanceof SourceError)) throw err;
      }
      this.destRuns.set(key, have);
    }
    return have.get(name);
  }

  /**
   * Compares one run, read from the source as the import read it, with Cairn's copy read through
   * its W&B API: state, history row count and a checksum of the rows (keys sorted), system metric
   * row count, and each file's size.
   */
  async run(src: RunReader, run: WandbSrcRun): Promise<void> {
    const id = `run ${run.entity}/${run.project}/${run.name}`;
    const d = await this.destRun(run.entity, run.project, run.name);
    this.check(`${id} exists`, true, d !== undefined);
    if (!d) return;
    this.check(`${id} state`, run.state ?? 'finished', d.state);
    const [a, b] = [await historyDigest(src, run), await historyDigest(this.dst, d)];
    this.check(`${id} history rows`, a.rows, b.rows);
    this.check(`${id} history checksum`, a.digest, b.digest);
    this.check(`${id} system metric rows`, (await src.events(run)).length, (await this.dst.events(d)).length);
    const sizes = await fileSizes(this.dst, d);
    for (const [name, size] of await fileSizes(src, run)) this.check(`${id} file '${name}' size`, size, sizes.get(name) ?? 'missing');
  }

  /** A whole project from a server: each run, the number of runs, and the artifacts. */
  async project(src: WandbServerSource, entity: string, project: string): Promise<void> {
    let count = 0;
    for await (const run of src.runs(entity, project)) {
      count++;
      await this.run(src, run);
    }
    await this.destRun(entity, project, '');
    this.check(`project ${entity}/${project} runs`, count, this.destRuns.get(`${entity}/${project}`)!.size);
    await this.artifacts(src, entity, project);
  }

  /** Each artifact version (matched by collection and manifest digest): size, file count, aliases, and every manifest entry's digest and size. */
  async artifacts(src: WandbServerSource, entity: string, project: string): Promise<void> {
    const [from, to] = [new WandbArtifactSource(src), new WandbArtifactSource(this.dst)];
    const mine = new Map<string, WandbSrcVersion>();
    const collections = [];
    for await (const c of to.collections(entity, project)) collections.push(c);
    for (const c of collections) for (const v of await to.versions(entity, project, c)) mine.set(`${c.name}@${v.digest}`, v);
    for await (const c of from.collections(entity, project)) {
      if (c.portfolio) continue;
      for (const v of await from.versions(entity, project, c)) {
        const id = `artifact ${c.name}:v${v.versionIndex}`;
        const d = mine.get(`${c.name}@${v.digest}`);
        this.check(`${id} exists (digest ${v.digest})`, true, d !== undefined);
        if (!d) continue;
        this.check(`${id} size / files`, `${v.size} / ${v.fileCount}`, `${d.size} / ${d.fileCount}`);
        const aliases = (x: WandbSrcVersion) => x.aliases.filter((a) => (a.artifactCollection?.name ?? c.name) === c.name).map((a) => a.alias).sort().join(',');
        this.check(`${id} aliases`, aliases(v), aliases(d));
        const theirs = (await to.manifest(d)).contents;
        for (const [path, e] of Object.entries((await from.manifest(v)).contents)) {
          const t = theirs[path];
          this.check(`${id} '${path}' digest / size`, `${e.digest} / ${e.size ?? 0}`, t ? `${t.digest} / ${t.size ?? 0}` : 'missing');
        }
      }
    }
  }
}
