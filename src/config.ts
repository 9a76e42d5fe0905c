import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

// One schema for flags and env, parsed once at start. Flag names and env vars mirror `mlflow server`
// so Cairn drops into existing compose files.
const configSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  backendStoreUri: z.string().min(1),
  defaultArtifactRoot: z.string().min(1),
  serveArtifacts: z.boolean(),
  artifactsDestination: z.string().min(1),
  workers: z.coerce.number().int().min(1).max(256),
  dataDir: z.string().min(1),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

const FLAGS = {
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'p' },
  'backend-store-uri': { type: 'string' },
  'default-artifact-root': { type: 'string' },
  'artifacts-destination': { type: 'string' },
  'serve-artifacts': { type: 'boolean' },
  'no-serve-artifacts': { type: 'boolean' },
  workers: { type: 'string', short: 'w' },
  'data-dir': { type: 'string' },
} as const;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const str = (flag: string) => values[flag] as string | undefined;
  const dataDir = path.resolve(str('data-dir') ?? env.CAIRN_DATA_DIR ?? 'cairn-data');
  const backendStoreUri =
    str('backend-store-uri') ?? env.MLFLOW_BACKEND_STORE_URI ?? env.CAIRN_BACKEND_STORE_URI ?? `pglite://${path.join(dataDir, 'db')}`;
  const serveArtifacts = values['no-serve-artifacts'] ? false : true;
  const raw = {
    host: str('host') ?? env.MLFLOW_HOST ?? '127.0.0.1',
    port: str('port') ?? env.MLFLOW_PORT ?? env.PORT ?? '5000',
    backendStoreUri,
    defaultArtifactRoot: str('default-artifact-root') ?? env.MLFLOW_DEFAULT_ARTIFACT_ROOT ?? 'mlflow-artifacts:',
    serveArtifacts,
    artifactsDestination:
      str('artifacts-destination') ?? env.MLFLOW_ARTIFACTS_DESTINATION ?? path.join(dataDir, 'artifacts'),
    workers: str('workers') ?? env.MLFLOW_WORKERS ?? env.CAIRN_WORKERS ?? String(os.availableParallelism()),
    dataDir,
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid value for --${kebab(String(issue.path[0]))}: ${issue.message}`);
  }
  const cfg = parsed.data;
  if (!isPglite(cfg.backendStoreUri) && !/^postgres(ql)?:\/\//.test(cfg.backendStoreUri)) {
    throw new ConfigError(
      `unsupported --backend-store-uri '${redact(cfg.backendStoreUri)}': use postgresql://user:pw@host:5432/db or pglite://<folder>`,
    );
  }
  // PGlite is an in-process database: a second process cannot open the same folder.
  if (isPglite(cfg.backendStoreUri)) cfg.workers = 1;
  return cfg;
}

export const isPglite = (uri: string) => uri.startsWith('pglite://') || uri === 'memory://';

export function redact(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
