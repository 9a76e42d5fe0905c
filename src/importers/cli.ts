import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config.js';
import { createDeps, silentLogger } from '../deps.js';
import { MlflowFileSource } from './mlflow/file-source.js';
import { importFromMlflow, type ImportSummary } from './mlflow/import.js';
import { MlflowRestSource } from './mlflow/rest-source.js';
import { SourceError, type MlflowSource } from './mlflow/source.js';
import { MlflowSqlSource } from './mlflow/sql-source.js';
import { verifyMlflowImport } from './mlflow/verify.js';
import { createProgress } from './progress.js';

export const IMPORT_USAGE = `cairn import mlflow <source> [--dry-run] [--verify] [--backend-store-uri URI] [--artifacts-destination URI] [--data-dir DIR]
  <source>: http(s)://tracking-server [--username U --password P | --token T]
            sqlite:///mlflow.db | postgresql://user@host/db   [--source-artifacts DIR]
            ./mlruns (a file store folder)                      [--source-artifacts DIR]`;

const IMPORT_FLAGS = {
  username: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  'source-artifacts': { type: 'string' },
  'dry-run': { type: 'boolean' },
  verify: { type: 'boolean' },
} as const;

/** `cairn import mlflow <url>`: returns the exit code (1 when --verify finds a difference). */
export async function importCommand(argv: string[]): Promise<number> {
  const ownNames = new Set(Object.keys(IMPORT_FLAGS).map((k) => `--${k}`));
  const own: string[] = [];
  const rest: string[] = [];
  // Import's own flags are taken out; the rest are the same store flags as `cairn server`.
  for (let i = 0; i < argv.length; i++) {
    const [flag] = argv[i].split('=');
    const target = ownNames.has(flag) ? own : rest;
    target.push(argv[i]);
    if (ownNames.has(flag) && !argv[i].includes('=') && IMPORT_FLAGS[flag.slice(2) as keyof typeof IMPORT_FLAGS].type === 'string') own.push(argv[++i]);
  }
  const positional = rest.filter((a, i) => !a.startsWith('-') && !(i > 0 && rest[i - 1].startsWith('--') && !rest[i - 1].includes('=')));
  const [kind, url] = positional;
  if (kind !== 'mlflow' || !url) {
    throw new ConfigError(`expected a source: ${IMPORT_USAGE}\n(W&B and TensorBoard are not supported yet)`);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: own, options: IMPORT_FLAGS, strict: true }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const config = parseConfig(rest.filter((a) => a !== kind && a !== url));
  let src: MlflowSource;
  try {
    src = await openSource(url, values);
  } catch (err) {
    if (err instanceof SourceError) throw new ConfigError(err.message);
    throw err;
  }
  const deps = await createDeps(config, { log: silentLogger });
  try {
    const progress = createProgress();
    let summary: ImportSummary;
    try {
      summary = await importFromMlflow(deps, src, { dryRun: !!values['dry-run'], progress });
    } finally {
      progress.done();
    }
    printSummary(summary, !!values['dry-run']);
    if (!values.verify) return 0;
    const { checked, differences } = await verifyMlflowImport(deps, src);
    if (!differences.length) {
      console.log(`verify: ${checked} checks, no difference`);
      return 0;
    }
    console.log(table(['what', 'source', 'cairn'], differences.map((d) => [d.what, d.source, d.cairn])));
    console.log(`verify: ${differences.length} of ${checked} checks differ`);
    return 1;
  } catch (err) {
    if (err instanceof SourceError) throw new ConfigError(err.message);
    throw err;
  } finally {
    await src.close();
    await deps.close();
  }
}

/** The source by the form of its argument: a server URL, a database URI, or a file store folder. */
async function openSource(arg: string, values: Record<string, string | boolean | undefined>): Promise<MlflowSource> {
  const artifacts = values['source-artifacts'] as string | undefined;
  if (/^https?:\/\//.test(arg)) {
    return new MlflowRestSource(arg, {
      username: (values.username as string) ?? process.env.MLFLOW_TRACKING_USERNAME,
      password: (values.password as string) ?? process.env.MLFLOW_TRACKING_PASSWORD,
      token: (values.token as string) ?? process.env.MLFLOW_TRACKING_TOKEN,
    });
  }
  if (/^(sqlite|postgres(ql)?)(\+\w+)?:/.test(arg)) return MlflowSqlSource.open(arg, artifacts);
  if (/^[a-z][\w+.-]*:\/\//i.test(arg) && !arg.startsWith('file:')) throw new SourceError(`${arg}: not an MLflow source (${IMPORT_USAGE.split('\n')[0]})`);
  return MlflowFileSource.open(arg, artifacts);
}

function printSummary(s: ImportSummary, dryRun: boolean): void {
  const verb = dryRun ? 'would import' : 'imported';
  console.log(
    `${verb}: ${s.experiments} experiments, ${s.runs} runs, ${s.metricPoints} metric points, ${s.artifacts} artifacts (${s.artifactBytes} bytes), ${s.loggedModels} logged models, ${s.models} registered models and prompts, ${s.versions} versions`,
  );
  if (s.skipped.length) {
    console.log(`skipped ${s.skipped.length}:`);
    for (const k of s.skipped) console.log(`  ${k.what}: ${k.why}`);
  }
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
