// Every flag `cairn server` takes, in one table: parsing, `--help` and the start-up notes for flags
// that do not apply all come from it. The set is `mlflow server` 3.18's (so a script written for it
// starts Cairn unchanged) plus Cairn's own.

export interface FlagSpec {
  name: string;
  short?: string;
  /** 'string' takes a value; 'boolean' is a switch. */
  type: 'string' | 'boolean';
  /** Shown in usage after the flag, e.g. URI. */
  metavar?: string;
  env?: string[];
  help: string;
  /** Accepted for compatibility, but without effect here: the reason, printed once at start-up. */
  ignored?: string;
}

export const SERVER_FLAGS: FlagSpec[] = [
  { name: 'host', short: 'h', type: 'string', metavar: 'HOST', env: ['MLFLOW_HOST'], help: 'address to listen on (default 127.0.0.1)' },
  { name: 'port', short: 'p', type: 'string', metavar: 'PORT', env: ['MLFLOW_PORT', 'PORT'], help: 'port to listen on (default 5000; 0 picks a free one)' },
  { name: 'backend-store-uri', type: 'string', metavar: 'URI', env: ['MLFLOW_BACKEND_STORE_URI', 'CAIRN_BACKEND_STORE_URI'], help: 'postgresql://user:pw@host:5432/db, or pglite://<folder> (default: embedded, in --data-dir)' },
  { name: 'registry-store-uri', type: 'string', metavar: 'URI', env: ['MLFLOW_REGISTRY_STORE_URI'], help: 'a second database for the model registry (models, versions, prompts): postgresql://… or pglite://<folder>' },
  { name: 'default-artifact-root', type: 'string', metavar: 'URI', env: ['MLFLOW_DEFAULT_ARTIFACT_ROOT'], help: "where new experiments keep artifacts (default 'mlflow-artifacts:', served by Cairn)" },
  { name: 'artifacts-destination', type: 'string', metavar: 'URI', env: ['MLFLOW_ARTIFACTS_DESTINATION'], help: 'folder or s3://bucket[/prefix] behind mlflow-artifacts: (default <data-dir>/artifacts)' },
  { name: 'serve-artifacts', type: 'boolean', help: 'proxy artifact uploads and downloads (default)' },
  { name: 'no-serve-artifacts', type: 'boolean', help: 'clients write artifacts to the store themselves' },
  { name: 'workers', short: 'w', type: 'string', metavar: 'N', env: ['MLFLOW_WORKERS', 'CAIRN_WORKERS'], help: 'processes sharing the port (default: one per core; always 1 on the embedded database)' },
  { name: 'data-dir', type: 'string', metavar: 'DIR', env: ['CAIRN_DATA_DIR'], help: 'folder of the embedded database and local artifacts (default ./cairn-data)' },
  { name: 'static-prefix', type: 'string', metavar: '/PREFIX', env: ['MLFLOW_STATIC_PREFIX'], help: 'serve everything (API, UI, /health, /metrics) under this path, e.g. /mlflow' },
  { name: 'ui', type: 'string', metavar: 'cairn|mlflow', env: ['CAIRN_UI'], help: "the web UI at '/': cairn (default) or mlflow (MLflow's own, from your Python mlflow; Cairn's moves to /cairn/)" },
  { name: 'mlflow-ui-path', type: 'string', metavar: 'PATH', env: ['CAIRN_MLFLOW_UI_PATH'], help: 'with --ui mlflow: the mlflow package folder, its site-packages or a Python that imports it (default: python3 on PATH)' },
  { name: 'expose-prometheus', type: 'string', metavar: 'DIR', env: ['MLFLOW_EXPOSE_PROMETHEUS'], help: 'serve Prometheus metrics on /metrics, summed over --workers (DIR, where mlflow keeps its multiprocess files, is not needed)' },
  { name: 'app-name', type: 'string', metavar: 'basic-auth', help: 'basic-auth: accounts and permissions (see docs/security.md)' },
  { name: 'auth-default-permission', type: 'string', metavar: 'P', env: ['CAIRN_AUTH_DEFAULT_PERMISSION'], help: 'READ, EDIT, MANAGE or NO_PERMISSIONS, with --app-name basic-auth' },
  { name: 'auth-admin-username', type: 'string', metavar: 'NAME', env: ['CAIRN_AUTH_ADMIN_USERNAME'], help: 'the admin created on the first start with auth (default admin)' },
  { name: 'allowed-hosts', type: 'string', metavar: 'HOSTS', env: ['MLFLOW_SERVER_ALLOWED_HOSTS'], help: 'Host header values accepted (origin checks)' },
  { name: 'cors-allowed-origins', type: 'string', metavar: 'ORIGINS', env: ['MLFLOW_SERVER_CORS_ALLOWED_ORIGINS'], help: 'origins allowed cross-origin requests (origin checks)' },
  { name: 'disable-security-middleware', type: 'boolean', help: 'turn the origin checks off' },
  { name: 'x-frame-options', type: 'string', metavar: 'VALUE', env: ['MLFLOW_SERVER_X_FRAME_OPTIONS'], help: 'X-Frame-Options header value' },
  { name: 'forwarded-allow-ips', type: 'string', metavar: 'IPS', env: ['FORWARDED_ALLOW_IPS'], help: 'proxies whose X-Forwarded-* headers are believed (default 127.0.0.1,::1)' },
  { name: 'wandb-upload-url-ttl', type: 'string', metavar: 'SECONDS', env: ['CAIRN_WANDB_UPLOAD_URL_TTL'], help: 'how long a W&B upload URL works, once (default 900)' },
  { name: 'wandb-agent-timeout', type: 'string', metavar: 'SECONDS', env: ['CAIRN_WANDB_AGENT_TIMEOUT'], help: 'a sweep agent silent this long is gone: its run is marked crashed and handed to another agent (default 120)' },
  { name: 'db-timeout', type: 'string', metavar: 'SECONDS', env: ['CAIRN_DB_TIMEOUT'], help: 'bound on a database statement or connection wait before a 503 (default 30)' },
  { name: 's3-timeout', type: 'string', metavar: 'SECONDS', env: ['CAIRN_S3_TIMEOUT'], help: 'bound on an S3 call, or a silent S3 socket, before a 503 (default 30)' },
  { name: 'shutdown-timeout', type: 'string', metavar: 'SECONDS', env: ['CAIRN_SHUTDOWN_TIMEOUT'], help: 'on SIGTERM/SIGINT, how long in-flight requests may take to finish (default 25)' },
  { name: 'log-level', type: 'string', metavar: 'LEVEL', env: ['CAIRN_LOG_LEVEL'], help: 'debug, info, warn, error or silent (default info); logs are JSON lines on stdout' },
  { name: 'no-access-log', type: 'boolean', env: ['CAIRN_ACCESS_LOG=false'], help: 'no log line per request (they are on by default)' },
  // mlflow server 3.18 flags that have no meaning here: accepted so scripts start unchanged.
  { name: 'read-replica-backend-store-uri', type: 'string', metavar: 'URI', help: 'accepted for mlflow compatibility', ignored: 'reads and writes share --backend-store-uri; put a connection proxy (PgBouncer, HAProxy) in front of replicas' },
  { name: 'artifacts-only', type: 'boolean', help: 'accepted for mlflow compatibility', ignored: 'Cairn serves tracking and artifacts from one process; run one behind a path-routing proxy to split them' },
  { name: 'artifacts-presigned-only', type: 'boolean', help: 'accepted for mlflow compatibility', ignored: 'artifacts are proxied through the server (or written directly with --no-serve-artifacts)' },
  { name: 'gunicorn-opts', type: 'string', metavar: 'OPTS', help: 'accepted for mlflow compatibility', ignored: 'Cairn is a Node server, not gunicorn: use --workers' },
  { name: 'waitress-opts', type: 'string', metavar: 'OPTS', help: 'accepted for mlflow compatibility', ignored: 'Cairn is a Node server, not waitress' },
  { name: 'uvicorn-opts', type: 'string', metavar: 'OPTS', help: 'accepted for mlflow compatibility', ignored: 'Cairn is a Node server, not uvicorn: use --workers' },
  { name: 'dev', type: 'boolean', help: 'accepted for mlflow compatibility', ignored: 'Cairn has no auto-reload or debug mode; run `npm run build` and restart' },
  { name: 'trace-archival-config', type: 'string', metavar: 'PATH', help: 'accepted for mlflow compatibility', ignored: 'Cairn does not archive traces' },
  { name: 'secrets-cache-ttl', type: 'string', metavar: 'SECONDS', help: 'accepted for mlflow compatibility', ignored: 'Cairn has no server-side secrets store' },
  { name: 'secrets-cache-max-size', type: 'string', metavar: 'N', help: 'accepted for mlflow compatibility', ignored: 'Cairn has no server-side secrets store' },
  { name: 'workspace-store-uri', type: 'string', metavar: 'URI', help: 'accepted for mlflow compatibility', ignored: 'workspaces are not supported (server-info says workspaces_enabled: false)' },
  { name: 'enable-workspaces', type: 'boolean', help: 'accepted for mlflow compatibility', ignored: 'workspaces are not supported (server-info says workspaces_enabled: false)' },
  { name: 'disable-workspaces', type: 'boolean', help: 'accepted for mlflow compatibility (workspaces are off)' },
];

/** The origin-check flags are parsed here and enforced by the origin checks' own module. */
export const ORIGIN_FLAGS = ['allowed-hosts', 'cors-allowed-origins', 'disable-security-middleware', 'x-frame-options'];

export function parseArgsOptions(specs: FlagSpec[]): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(specs.map((f) => [f.name, f.short ? { type: f.type, short: f.short } : { type: f.type }]));
}

/**
 * Joins each string flag to its value (`--gunicorn-opts "--timeout 60"` -> `--gunicorn-opts=--timeout 60`):
 * click, behind `mlflow server`, takes the next argument as the value even when it starts with a
 * dash, and node's parseArgs would refuse it as ambiguous.
 */
export function joinFlagValues(argv: string[], specs: FlagSpec[] = SERVER_FLAGS): string[] {
  const byName = new Map<string, FlagSpec>();
  for (const f of specs) {
    byName.set(`--${f.name}`, f);
    if (f.short) byName.set(`-${f.short}`, f);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const spec = byName.get(argv[i]);
    if (spec?.type === 'string' && i + 1 < argv.length) out.push(`--${spec.name}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

/** One line per flag given (on the command line) that has no effect, saying why. */
export function ignoredFlagNotes(values: Record<string, unknown>): string[] {
  return SERVER_FLAGS.filter((f) => f.ignored && values[f.name] !== undefined).map((f) => `cairn: --${f.name} is ignored: ${f.ignored}`);
}

/** Readable usage: one flag a line, its value's name, what it does and its environment variables. */
export function flagsUsage(specs: FlagSpec[]): string {
  const left = specs.map((f) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.metavar ? ` ${f.metavar}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs
    .map((f, i) => {
      const env = f.env?.length ? `\n  ${''.padEnd(width)}env: ${f.env.join(', ')}` : '';
      return `  ${left[i].padEnd(width)}${f.help}${env}`;
    })
    .join('\n');
}
