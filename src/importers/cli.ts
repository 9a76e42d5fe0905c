import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { ConfigError, parseConfig, type Config } from '../config.js';
import { createDeps, silentLogger, type Deps } from '../deps.js';
import { createApiKey, revokeApiKey } from '../domain/wandb/api-keys.js';
import { exportToMlflow } from './mlflow/export.js';
import { exportToFolder } from './mlflow/export-folder.js';
import { MlflowFileSource } from './mlflow/file-source.js';
import { importFromMlflow } from './mlflow/import.js';
import { MlflowRestClient } from './mlflow/rest-client.js';
import { MlflowRestSource } from './mlflow/rest-source.js';
import { SourceError, type MlflowSource } from './mlflow/source.js';
import { MlflowSqlSource } from './mlflow/sql-source.js';
import { verifyMove, type VerifyRow } from './mlflow/verify.js';
import { createProgress } from './progress.js';
import { existsSync } from 'node:fs';
import { importFromWandb, importWandbOffline, placeOfflineRun, type WandbImportSummary } from './wandb/import.js';
import { WandbVerifier } from './wandb/verify.js';
import { WandbOfflineSource } from './wandb/offline-source.js';
import { WandbServerSource } from './wandb/server-source.js';
import type { TransferSummary } from './transfer.js';
import { TensorBoardSource } from './tensorboard/source.js';

export const IMPORT_USAGE = `cairn import mlflow <source> [--dry-run] [--verify] [--backend-store-uri URI] [--artifacts-destination URI] [--data-dir DIR]
  <source>: http(s)://tracking-server [--username U --password P | --token T]
            sqlite:///mlflow.db | postgresql://user@host/db   [--source-artifacts DIR]
            ./mlruns (a file store folder)                      [--source-artifacts DIR]
cairn import wandb <https://api.wandb.ai | http://other-cairn> [--api-key K] [--entity E] [--project P]
                   [--dry-run] [--verify] [--backend-store-uri URI] [--artifacts-destination URI] [--data-dir DIR]
  the key defaults to WANDB_API_KEY; without --project, every project of the entity (the key's own by default)
cairn import wandb <./wandb/offline-run-* | ./wandb> [--entity E] [--project P] [--dry-run] [--verify] [store flags as above]
  offline runs, as \`wandb sync\` would send them; --entity/--project replace the runs' own
cairn import tensorboard <logdir> [--experiment NAME] [--dry-run] [--verify] [store flags as above]`;
export const EXPORT_USAGE = `cairn export mlflow <http(s)://tracking-server> [--username U --password P | --token T]
                    [--dry-run] [--verify] [--backend-store-uri URI] [--artifacts-destination URI] [--data-dir DIR]
cairn export mlflow-export-import <folder> [--dry-run] [store flags as above]`;

const FLAGS = {
  username: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  'source-artifacts': { type: 'string' },
  'api-key': { type: 'string' },
  entity: { type: 'string' },
  project: { type: 'string' },
  'dry-run': { type: 'boolean' },
  verify: { type: 'boolean' },
  experiment: { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Splits `mlflow <where> [own flags] [store flags]`: the store flags are the same as `cairn server`'s. */
function parseCommand(argv: string[], usage: string, kinds = ['mlflow']): { kind: string; where: string; values: Values; config: Config } {
  const ownNames = new Set(Object.keys(FLAGS).map((k) => `--${k}`));
  const own: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag] = argv[i].split('=');
    const target = ownNames.has(flag) ? own : rest;
    target.push(argv[i]);
    if (ownNames.has(flag) && !argv[i].includes('=') && FLAGS[flag.slice(2) as keyof typeof FLAGS].type === 'string') own.push(argv[++i]);
  }
  const positional = rest.filter((a, i) => !a.startsWith('-') && !(i > 0 && rest[i - 1].startsWith('--') && !rest[i - 1].includes('=')));
  const [kind, where] = positional;
  if (!kinds.includes(kind) || !where) throw new ConfigError(`expected: ${usage}`);
  let values: Values;
  try {
    ({ values } = parseArgs({ args: own, options: FLAGS, strict: true }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return { kind, where, values, config: parseConfig(rest.filter((a) => a !== kind && a !== where)) };
}

const restAuth = (values: Values) => ({
  username: (values.username as string) ?? process.env.MLFLOW_TRACKING_USERNAME,
  password: (values.password as string) ?? process.env.MLFLOW_TRACKING_PASSWORD,
  token: (values.token as string) ?? process.env.MLFLOW_TRACKING_TOKEN,
});

/** A failure to open a source or reach a server is one line (exit status 2), as a bad flag is. */
async function oneLine<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof SourceError) throw new ConfigError(err.message);
    throw err;
  }
}

/** `cairn import mlflow|tensorboard <source>`: returns the exit code (1 when --verify finds a difference). */
export async function importCommand(argv: string[]): Promise<number> {
  const { kind, where, values, config } = parseCommand(argv, IMPORT_USAGE, ['mlflow', 'wandb', 'tensorboard']);
  if (kind === 'wandb') return importWandbCommand(where, values, config);
  // A TensorBoard log folder is read as an MLflow source with one experiment: the import is the same.
  const src = await oneLine(() => (kind === 'tensorboard' ? TensorBoardSource.open(where, values.experiment as string) : openSource(where, values)));
  const deps = await createDeps(config, { log: silentLogger });
  try {
    return await oneLine(async () => {
      const summary = await withProgress((progress) => importFromMlflow(deps, src, { dryRun: !!values['dry-run'], progress }));
      printSummary(summary, !!values['dry-run']);
      return values.verify ? report(await verifyMove(src, cairnSource(deps))) : 0;
    });
  } finally {
    await src.close();
    await deps.close();
  }
}

/** `cairn import wandb <server url>`: runs of one project or of a whole entity, through W&B's public API. */
async function importWandbCommand(where: string, values: Values, config: Config): Promise<number> {
  if (!/^https?:\/\//.test(where) && existsSync(where)) return importWandbOfflineCommand(where, values, config);
  if (!/^https?:\/\//.test(where)) throw new ConfigError(`expected a W&B server URL: ${IMPORT_USAGE}`);
  const key = (values['api-key'] as string) ?? process.env.WANDB_API_KEY;
  if (!key) throw new ConfigError('cairn import wandb: pass --api-key or set WANDB_API_KEY');
  const src = new WandbServerSource(where, key);
  const entity = await oneLine(async () => (values.entity as string) ?? (await src.defaultEntity()));
  const deps = await createDeps(config, { log: silentLogger });
  try {
    return await oneLine(async () => {
      const dryRun = !!values['dry-run'];
      const s = await withProgress((progress) => importFromWandb(deps, src, { dryRun, progress, entity, project: values.project as string | undefined }));
      printWandbSummary(s, dryRun);
      if (!values.verify) return 0;
      return verifyWandb(deps, entity, async (v) => {
        if (values.project) return v.project(src, entity, values.project as string);
        for await (const p of src.projects(entity)) await v.project(src, entity, p);
      });
    });
  } finally {
    await deps.close();
  }
}

/** `cairn import wandb <folder>`: offline runs' record logs, written as `wandb sync` would send them. */
async function importWandbOfflineCommand(where: string, values: Values, config: Config): Promise<number> {
  const src = await oneLine(() => WandbOfflineSource.open(where));
  const deps = await createDeps(config, { log: silentLogger });
  try {
    return await oneLine(async () => {
      const dryRun = !!values['dry-run'];
      const opts = { dryRun, entity: values.entity as string | undefined, project: values.project as string | undefined };
      printWandbSummary(await withProgress((progress) => importWandbOffline(deps, src, { ...opts, progress })), dryRun);
      if (!values.verify) return 0;
      // The check's key belongs to the runs' entity (read from the first run when --entity is not given).
      const owner = opts.entity ?? (await src.runs()[Symbol.asyncIterator]().next()).value?.entity;
      return verifyWandb(deps, owner, async (v) => {
        for await (const run of src.runs()) {
          placeOfflineRun(run, opts);
          await v.run(src, run);
        }
      });
    });
  } finally {
    await deps.close();
  }
}

function printWandbSummary(s: WandbImportSummary, dryRun: boolean): void {
  console.log(`${dryRun ? 'would import' : 'imported'}: ${s.projects} projects, ${s.runs} runs, ${s.historyRows} history rows, ${s.eventRows} system metric rows, ${s.files} files (${s.fileBytes} bytes), ${s.artifactVersions} artifact versions, ${s.artifactFiles} artifact files (${s.artifactBytes} bytes)`);
  printSkipped(s.skipped);
}

/**
 * `--verify` of a W&B import: Cairn is read back through its own W&B API, served in this process,
 * with a key made for the check and revoked after it (the W&B routes always want one).
 */
async function verifyWandb(deps: Deps, entity: string, compare: (v: WandbVerifier) => Promise<void>): Promise<number> {
  const key = await createApiKey(deps.db, entity, Date.now());
  try {
    const v = new WandbVerifier(new WandbServerSource('http://127.0.0.1', key.key, inProcessFetch(deps)));
    await compare(v);
    return report(v);
  } finally {
    await revokeApiKey(deps.db, key.prefix, Date.now(), key.userName);
  }
}

/**
 * `cairn export mlflow <url>`: Cairn's store is read through its own API, served in this process
 * without a socket, so the export reads exactly what any MLflow client would.
 */
export async function exportCommand(argv: string[]): Promise<number> {
  const { kind, where, values, config } = parseCommand(argv, EXPORT_USAGE, ['mlflow', 'mlflow-export-import']);
  if (kind === 'mlflow-export-import') return exportFolderCommand(where, values, config);
  if (!/^https?:\/\//.test(where)) throw new ConfigError(`expected a tracking server URL: ${EXPORT_USAGE}`);
  const deps = await createDeps(config, { log: silentLogger });
  try {
    const src = cairnSource(deps);
    const dst = new MlflowRestClient(where, restAuth(values));
    return await oneLine(async () => {
      const summary = await withProgress((progress) => exportToMlflow(src, dst, { dryRun: !!values['dry-run'], progress }));
      printSummary(summary, !!values['dry-run'], 'export');
      return values.verify ? report(await verifyMove(src, new MlflowRestSource(dst))) : 0;
    });
  } finally {
    await deps.close();
  }
}

/** `cairn export mlflow-export-import <folder>`: the folder that tool's import commands read. */
async function exportFolderCommand(folder: string, values: Values, config: Config): Promise<number> {
  if (values.verify) throw new ConfigError('--verify compares with a tracking server; import the folder into one and export from Cairn with --verify to compare');
  const deps = await createDeps(config, { log: silentLogger });
  try {
    const summary = await oneLine(() => withProgress((progress) => exportToFolder(cairnSource(deps), folder, { dryRun: !!values['dry-run'], progress })));
    printSummary(summary, !!values['dry-run'], 'export');
    return 0;
  } finally {
    await deps.close();
  }
}

/**
 * Cairn's store read through its own API, served in this process without a socket: an export
 * reads, and a verify compares, exactly what any MLflow client would see.
 */
function cairnSource(deps: Deps): MlflowRestSource {
  return new MlflowRestSource('http://127.0.0.1', {}, inProcessFetch(deps));
}

/** Cairn's app as a `fetch`, without a socket. */
function inProcessFetch(deps: Deps): typeof fetch {
  const app = createApp(deps);
  // A Request made here carries no Host header; the browser-origin guard wants an allowed one.
  return async (u, init) => {
    const req = new Request(u, init);
    req.headers.set('host', '127.0.0.1');
    return app.fetch(req);
  };
}

async function withProgress<T>(f: (progress: ReturnType<typeof createProgress>) => Promise<T>): Promise<T> {
  const progress = createProgress();
  try {
    return await f(progress);
  } finally {
    progress.done();
  }
}

/** The source by the form of its argument: a server URL, a database URI, or a file store folder. */
async function openSource(arg: string, values: Values): Promise<MlflowSource> {
  const artifacts = values['source-artifacts'] as string | undefined;
  if (/^https?:\/\//.test(arg)) return new MlflowRestSource(arg, restAuth(values));
  if (/^(sqlite|postgres(ql)?)(\+\w+)?:/.test(arg)) return MlflowSqlSource.open(arg, artifacts);
  if (/^[a-z][\w+.-]*:\/\//i.test(arg) && !arg.startsWith('file:')) throw new SourceError(`${arg}: not an MLflow source (${IMPORT_USAGE.split('\n')[0]})`);
  return MlflowFileSource.open(arg, artifacts);
}

function printSummary(s: TransferSummary, dryRun: boolean, verb: 'import' | 'export' = 'import'): void {
  console.log(
    `${dryRun ? `would ${verb}` : `${verb}ed`}: ${s.experiments} experiments, ${s.runs} runs, ${s.metricPoints} metric points, ${s.artifacts} artifacts (${s.artifactBytes} bytes), ${s.loggedModels} logged models, ${s.models} registered models and prompts, ${s.versions} versions`,
  );
  printSkipped(s.skipped);
}

function printSkipped(skipped: { what: string; why: string }[]): void {
  if (!skipped.length) return;
  console.log(`skipped ${skipped.length}:`);
  for (const k of skipped) console.log(`  ${k.what}: ${k.why}`);
}

function report({ checked, differences }: { checked: number; differences: VerifyRow[] }): number {
  if (!differences.length) {
    console.log(`verify: ${checked} checks, no difference`);
    return 0;
  }
  console.log(table(['what', 'source', 'destination'], differences.map((d) => [d.what, d.source, d.destination])));
  console.log(`verify: ${differences.length} of ${checked} checks differ`);
  return 1;
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
