import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AUTH_FLAGS, AuthConfigError, authConfigSchema, rawAuthConfig } from './auth/config.js';
import { parseStoreUri } from './blobs/index.js';
import { parseAddressRange } from './http/trusted-proxies.js';
import { LOG_LEVELS } from './observability/logger.js';
import { locateMlflowUi, MlflowUiNotFound, type MlflowUi } from './cli/mlflow-ui.js';
import { ignoredFlagNotes, joinFlagValues, parseArgsOptions, SERVER_FLAGS } from './cli/server-flags.js';

// One schema for flags and env, parsed once at start. Flag names and env vars mirror `mlflow server`
// so Cairn drops into existing compose files.
const configSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  backendStoreUri: z.string().min(1),
  /**
   * --registry-store-uri when it names another database than the backend store: the model registry
   * (registered models, their versions, tags and aliases; prompts are registered models) lives there.
   */
  registryStoreUri: z.string().min(1).optional(),
  defaultArtifactRoot: z.string().min(1),
  serveArtifacts: z.boolean(),
  artifactsDestination: z.string().min(1),
  workers: z.coerce.number().int().min(1).max(256),
  dataDir: z.string().min(1),
  /** Bound on one database statement, and on getting a connection (ms); past it the request is a 503. */
  dbTimeoutMs: z.coerce.number().int().min(100).max(3_600_000),
  /** Bound on one S3 call (ms), and on a silent S3 socket while streaming; past it the request is a 503. */
  s3TimeoutMs: z.coerce.number().int().min(100).max(3_600_000),
  /** --allowed-hosts and friends: see src/http/browser-origin.ts. */
  browserOrigin: z.object({
    allowedHosts: z.array(z.string().min(1)).optional(),
    corsAllowedOrigins: z.array(z.string().min(1)),
    xFrameOptions: z.enum(['SAMEORIGIN', 'DENY', 'NONE']),
    disabled: z.boolean(),
  }),
  /** Peers whose X-Forwarded-* headers are believed (IPs, CIDR ranges, or '*'), as uvicorn's --forwarded-allow-ips. */
  forwardedAllowIps: z.array(z.string().min(1)),
  /** How long a W&B upload URL stays usable, in seconds. */
  wandbUploadUrlTtl: z.coerce.number().int().min(10).max(7 * 24 * 3600),
  /** A sweep agent silent this long is gone: its unfinished run is marked crashed and handed out again. */
  wandbAgentTimeoutMs: z.coerce.number().int().min(1000).max(24 * 3_600_000),
  /** On SIGTERM, how long in-flight requests get to finish before the process exits anyway (ms). */
  shutdownTimeoutMs: z.coerce.number().int().min(0).max(3_600_000),
  s3: z.object({
    endpointUrl: z.url({ protocol: /^https?$/ }).optional(),
    region: z.string().min(1),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    ignoreTls: z.boolean(),
  }),
  auth: authConfigSchema,
  /** '' or '/a/b': every route, the UI included, is served under it (mlflow's --static-prefix). */
  staticPrefix: z.string().regex(/^$|^\/[A-Za-z0-9._~\-/]*[^/]$/),
  /** Which web UI answers at '/': Cairn's own, or MLflow's (Cairn's then lives under /cairn/). */
  ui: z.enum(['cairn', 'mlflow']),
  /** With ui 'mlflow': the build folder found in the user's Python mlflow (see src/cli/mlflow-ui.ts). */
  mlflowUi: z.object({ dir: z.string(), version: z.string().optional() }).optional(),
  /** Serve /metrics (mlflow's --expose-prometheus; its folder argument has no use here). */
  exposePrometheus: z.boolean(),
  logLevel: z.enum(LOG_LEVELS),
  /** A log line per request. */
  accessLog: z.boolean(),
  /** Start-up notes: flags accepted for mlflow compatibility that have no effect, each with why. */
  ignoredFlags: z.array(z.string()),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

const FLAGS = parseArgsOptions(SERVER_FLAGS);

/** What each setting expects, for a one-line error naming the flag (zod's own message names neither). */
const EXPECTS: Record<string, string> = {
  port: 'a whole number from 0 to 65535',
  workers: 'a whole number from 1 to 256',
  dbTimeoutMs: 'a number of seconds between 0.1 and 3600',
  s3TimeoutMs: 'a number of seconds between 0.1 and 3600',
  shutdownTimeoutMs: 'a number of seconds from 0 to 3600',
  wandbUploadUrlTtl: 'a number of seconds from 10 to 604800',
  wandbAgentTimeoutMs: 'a number of seconds from 1 to 86400',
  host: 'a host name or address',
  staticPrefix: "a path that begins with '/' and does not end with '/', e.g. /mlflow",
  logLevel: `one of ${LOG_LEVELS.join(', ')}`,
  ui: "'cairn' or 'mlflow'",
};

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: joinFlagValues(argv), options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs' own text ("Unknown option '--x'. To specify a positional argument...") is for
    // programmers; say which flag and where the list is.
    const msg = (err as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(msg)?.[1];
    if (unknown) throw new ConfigError(`unknown flag ${unknown}: cairn server --help lists the flags`);
    const missing = /Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(msg)?.[2];
    if (missing) throw new ConfigError(`${missing} needs a value: cairn server --help says which`);
    throw new ConfigError(msg.split('. ')[0]);
  }
  const str = (flag: string) => values[flag] as string | undefined;
  const dataDir = path.resolve(str('data-dir') ?? env.CAIRN_DATA_DIR ?? 'cairn-data');
  const backendStoreUri =
    str('backend-store-uri') ?? env.MLFLOW_BACKEND_STORE_URI ?? env.CAIRN_BACKEND_STORE_URI ?? `pglite://${path.join(dataDir, 'db')}`;
  const serveArtifacts = values['no-serve-artifacts'] ? false : true;
  const registryStoreUri = str('registry-store-uri') ?? env.MLFLOW_REGISTRY_STORE_URI;
  const raw = {
    host: str('host') ?? env.MLFLOW_HOST ?? '127.0.0.1',
    port: str('port') ?? env.MLFLOW_PORT ?? env.PORT ?? '5000',
    backendStoreUri,
    registryStoreUri: registryStoreUri === backendStoreUri ? undefined : registryStoreUri,
    defaultArtifactRoot: str('default-artifact-root') ?? env.MLFLOW_DEFAULT_ARTIFACT_ROOT ?? 'mlflow-artifacts:',
    serveArtifacts,
    artifactsDestination:
      str('artifacts-destination') ?? env.MLFLOW_ARTIFACTS_DESTINATION ?? path.join(dataDir, 'artifacts'),
    workers: str('workers') ?? env.MLFLOW_WORKERS ?? env.CAIRN_WORKERS ?? String(os.availableParallelism()),
    dataDir,
    dbTimeoutMs: seconds(str('db-timeout') ?? env.CAIRN_DB_TIMEOUT ?? '30'),
    s3TimeoutMs: seconds(str('s3-timeout') ?? env.CAIRN_S3_TIMEOUT ?? '30'),
    browserOrigin: {
      allowedHosts: list(str('allowed-hosts') ?? env.MLFLOW_SERVER_ALLOWED_HOSTS),
      corsAllowedOrigins: list(str('cors-allowed-origins') ?? env.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS) ?? [],
      xFrameOptions: (str('x-frame-options') ?? env.MLFLOW_SERVER_X_FRAME_OPTIONS ?? 'SAMEORIGIN').toUpperCase(),
      disabled: values['disable-security-middleware'] === true || /^true$/i.test(env.MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE ?? ''),
    },
    forwardedAllowIps: list(str('forwarded-allow-ips') ?? env.FORWARDED_ALLOW_IPS) ?? ['127.0.0.1', '::1'],
    wandbUploadUrlTtl: str('wandb-upload-url-ttl') ?? env.CAIRN_WANDB_UPLOAD_URL_TTL ?? '900',
    wandbAgentTimeoutMs: seconds(str('wandb-agent-timeout') ?? env.CAIRN_WANDB_AGENT_TIMEOUT ?? '120'),
    shutdownTimeoutMs: seconds(str('shutdown-timeout') ?? env.CAIRN_SHUTDOWN_TIMEOUT ?? '25'),
    s3: {
      endpointUrl: env.MLFLOW_S3_ENDPOINT_URL || undefined,
      region: env.AWS_DEFAULT_REGION || env.AWS_REGION || 'us-east-1',
      accessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
      ignoreTls: /^(true|1|yes)$/i.test(env.MLFLOW_S3_IGNORE_TLS ?? ''),
    },
    auth: authOrConfigError(values, env),
    staticPrefix: str('static-prefix') ?? env.MLFLOW_STATIC_PREFIX ?? '',
    ui: (str('ui') ?? env.CAIRN_UI ?? 'cairn').toLowerCase(),
    exposePrometheus: (str('expose-prometheus') ?? env.MLFLOW_EXPOSE_PROMETHEUS) !== undefined,
    logLevel: (str('log-level') ?? env.CAIRN_LOG_LEVEL ?? 'info').toLowerCase(),
    accessLog: values['no-access-log'] ? false : !/^(false|0|no|off)$/i.test(env.CAIRN_ACCESS_LOG ?? ''),
    ignoredFlags: ignoredFlagNotes(values),
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]);
    const flag = key === 'auth' ? `auth-${kebab(String(issue.path[1]))}` : key === 'browserOrigin' ? kebab(String(issue.path[1])) : (TIMEOUT_FLAGS[key] ?? kebab(key));
    const given = key in raw && typeof raw[key as keyof typeof raw] === 'string' ? ` (got '${raw[key as keyof typeof raw]}')` : '';
    throw new ConfigError(`invalid value for --${flag}: expected ${EXPECTS[key] ?? issue.message}${given}`);
  }
  const cfg = parsed.data;
  if (!isPglite(cfg.backendStoreUri) && !/^postgres(ql)?:\/\//.test(cfg.backendStoreUri)) {
    throw new ConfigError(
      `unsupported --backend-store-uri '${redact(cfg.backendStoreUri)}': use postgresql://user:pw@host:5432/db or pglite://<folder>`,
    );
  }
  if (cfg.registryStoreUri !== undefined) checkRegistryStore(cfg);
  checkArtifactUris(cfg);
  checkForwardedAllowIps(cfg.forwardedAllowIps);
  const mlflowUiPath = str('mlflow-ui-path') ?? env.CAIRN_MLFLOW_UI_PATH;
  if (cfg.ui === 'mlflow') cfg.mlflowUi = mlflowUiOrConfigError(mlflowUiPath, env);
  else if (str('mlflow-ui-path') !== undefined) throw new ConfigError('--mlflow-ui-path is for --ui mlflow');
  // PGlite is an in-process database: a second process cannot open the same folder.
  if (isPglite(cfg.backendStoreUri) || (cfg.registryStoreUri && isPglite(cfg.registryStoreUri))) cfg.workers = 1;
  return cfg;
}

// The registry database takes the same URIs as the backend store. Accounts and permissions live in
// the backend store and point at registered models by foreign key (registered_model_permissions,
// team_models) and by joins (auth/filters.ts), which cannot reach into another database.
function checkRegistryStore(cfg: Config): void {
  const uri = cfg.registryStoreUri!;
  if (!isPglite(uri) && !/^postgres(ql)?:\/\//.test(uri)) {
    throw new ConfigError(`unsupported --registry-store-uri '${redact(uri)}': use postgresql://user:pw@host:5432/db or pglite://<folder>`);
  }
  if (cfg.auth.enabled) {
    throw new ConfigError(
      '--registry-store-uri cannot be used with --app-name basic-auth: registered-model permissions live in the --backend-store-uri database and refer to its registered models; keep the registry there',
    );
  }
}

// Allow-lists, so a typo or an unsupported store stops start-up instead of failing the first upload.
// The destination is where Cairn itself reads and writes; the default root is only handed to clients.
const DEFAULT_ROOT_SCHEMES = ['mlflow-artifacts', 's3', 'gs', 'wasbs', 'abfss', 'file', 'http', 'https'];

function checkArtifactUris(cfg: Config): void {
  if (!parseStoreUri(cfg.artifactsDestination)) {
    throw new ConfigError(
      `unsupported --artifacts-destination '${cfg.artifactsDestination}': use a folder path, file:///path or s3://bucket[/prefix]`,
    );
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(cfg.defaultArtifactRoot)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    cfg.defaultArtifactRoot = path.resolve(cfg.defaultArtifactRoot);
  } else if (!DEFAULT_ROOT_SCHEMES.includes(scheme)) {
    throw new ConfigError(
      `unsupported --default-artifact-root scheme '${scheme}:': use one of ${DEFAULT_ROOT_SCHEMES.map((s) => `${s}:`).join(', ')} or a folder path`,
    );
  } else if (/[?#;\\]/.test(cfg.defaultArtifactRoot) || /(^|\/)\.\.(\/|$)/.test(cfg.defaultArtifactRoot)) {
    throw new ConfigError(`invalid --default-artifact-root '${cfg.defaultArtifactRoot}': no '..', '?', '#', ';' or backslash`);
  }
  if (cfg.serveArtifacts === false && scheme === 'mlflow-artifacts') {
    throw new ConfigError(
      "--no-serve-artifacts needs a --default-artifact-root the clients can write to themselves (s3://bucket/path, a folder, ...), not 'mlflow-artifacts:'",
    );
  }
}

function authOrConfigError(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): unknown {
  try {
    return rawAuthConfig(values, env);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

function mlflowUiOrConfigError(given: string | undefined, env: NodeJS.ProcessEnv): MlflowUi {
  try {
    return locateMlflowUi(given, env);
  } catch (err) {
    if (err instanceof MlflowUiNotFound) throw new ConfigError(err.message);
    throw err;
  }
}

/** A comma-separated list (MLflow's and uvicorn's format); empty means unset. */
function list(text: string | undefined): string[] | undefined {
  const items = text?.split(',').map((s) => s.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}

function checkForwardedAllowIps(entries: string[]): void {
  for (const entry of entries) {
    if (entry !== '*' && !parseAddressRange(entry)) {
      throw new ConfigError(`invalid --forwarded-allow-ips entry '${entry}': use IP addresses, CIDR ranges (10.0.0.0/8) or '*'`);
    }
  }
}

export const isPglite = (uri: string) => uri.startsWith('pglite://') || uri === 'memory://';

export function redact(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

const TIMEOUT_FLAGS: Record<string, string> = {
  dbTimeoutMs: 'db-timeout',
  s3TimeoutMs: 's3-timeout',
  shutdownTimeoutMs: 'shutdown-timeout',
  wandbAgentTimeoutMs: 'wandb-agent-timeout',
};

// Timeouts are given in seconds (fractions allowed, as gunicorn's --timeout) and kept in ms.
const seconds = (text: string) => (/^\d+(\.\d+)?$/.test(text.trim()) ? Math.round(Number(text) * 1000) : NaN);

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
