import cluster from 'node:cluster';
import type http from 'node:http';
import v8 from 'node:v8';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { backfillSpanRows } from './domain/traces/span-backfill.js';
import { authBanner, prepareAuth } from './auth/startup.js';
import { ConfigError, isPglite, parseConfig, redact, type Config } from './config.js';
import { StartupError } from './db/connect.js';
import { classifyDbError } from './db/faults.js';
import { checkArtifactStores, createDeps, type Logger } from './deps.js';
import { createLogger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { EXPORT_USAGE, exportCommand, IMPORT_USAGE, importCommand } from './importers/cli.js';
import { KEYS_USAGE, keysCommand } from './routes/wandb/keys-cli.js';
import { TEAMS_USAGE, teamsCommand } from './cli/teams-cli.js';
import { MLFLOW_COMPAT_VERSION } from './routes/health.js';
import { flagsUsage, SERVER_FLAGS } from './cli/server-flags.js';
import { prefixedServerFactory } from './cli/static-prefix.js';
import { cairnVersion } from './cli/version.js';
import { startupBanner } from './cli/banner.js';

const SERVER_USAGE = `usage: cairn server [flags]

Runs the tracking server (MLflow REST API, artifacts, W&B protocol, web UI). Flags are mlflow server
3.18's, plus Cairn's own; a flag wins over its environment variable.

${flagsUsage(SERVER_FLAGS)}
      --help                 show this help
      --version              print Cairn's version`;

const MIGRATE_USAGE = `usage: cairn db migrate [--backend-store-uri URI | --data-dir DIR] [--registry-store-uri URI]

Applies the database migrations and exits (cairn server also does this at start).`;

const USAGE = `usage: cairn <command> [flags]

commands:
  server        run the tracking server (the default); cairn server --help lists its flags
  db migrate    apply the database migrations and exit
  keys          create, list and revoke API keys:
                ${KEYS_USAGE.replace(/\n\s*/g, '\n                ')}
  teams         create teams and manage their members and roles:
                ${TEAMS_USAGE.replace(/\n\s*/g, '\n                ')}
  import        bring history in from another tool:
                ${IMPORT_USAGE.replace(/\n\s*/g, '\n                ')}
  export        copy Cairn's store out to an MLflow tracking server or an mlflow-export-import folder:
                ${EXPORT_USAGE.replace(/\n\s*/g, '\n                ')}

Every command takes --help and --version.`;

/** The help for the command argv names, if it asks for help; --version anywhere prints the version. */
export function helpOrVersion(argv: string[]): string | undefined {
  if (argv.includes('--version') || argv[0] === 'version') return `cairn ${cairnVersion()} (speaks the MLflow ${MLFLOW_COMPAT_VERSION} API)`;
  if (!argv.includes('--help') && argv[0] !== 'help') return undefined;
  if (argv[0] === 'server') return SERVER_USAGE;
  if (argv[0] === 'db') return MIGRATE_USAGE;
  if (argv[0] === 'keys') return `usage: ${KEYS_USAGE}`;
  if (argv[0] === 'teams') return `usage: ${TEAMS_USAGE}`;
  return USAGE;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const help = helpOrVersion(argv);
  if (help) {
    console.log(help);
    return;
  }
  try {
    if (command === 'server' || command === undefined || command.startsWith('-')) return await runServer(parseConfig(command?.startsWith('-') ? argv : rest));
    if (command === 'db' && rest[0] === 'migrate') return await migrateOnly(parseConfig(rest.slice(1)));
    if (command === 'keys') return await keysCommand(rest);
    if (command === 'teams') return await teamsCommand(rest);
    if (command === 'import') return void (process.exitCode = await importCommand(rest));
    if (command === 'export') return void (process.exitCode = await exportCommand(rest));
    throw new ConfigError(`unknown command '${argv.join(' ')}'\n${USAGE}`);
  } catch (err) {
    // Start-up failures are one clear line, never a stack trace.
    if (err instanceof ConfigError || err instanceof StartupError) {
      console.error(`cairn: ${err.message.replace(/\s+/g, ' ')}`);
      process.exit(2);
    }
    console.error(`cairn: start-up failed: ${(err as Error)?.message ?? err}`);
    process.exit(1);
  }
}

async function migrateOnly(config: Config): Promise<void> {
  const deps = await createDeps(config);
  await deps.close();
  console.log(`cairn: migrations applied to ${redact(config.backendStoreUri)}`);
  if (config.registryStoreUri) console.log(`cairn: migrations applied to ${redact(config.registryStoreUri)} (the registry store)`);
}

/**
 * How V8 compiles PGlite's Postgres (a large WASM module). V8's default compiles it twice (a quick
 * baseline, then optimised code for hot functions); optimised code only took 2-3 s of every start
 * and baseline code only holds ~30 MiB less than either, for queries measured 10-40% slower on
 * CPU-heavy work (docs/bench.md, "Start-up"). Baseline is the default: a laptop server starts and
 * stays small; `CAIRN_PGLITE_WASM=optimized` (or `tiered`, V8's own default) for heavy embedded use.
 */
function pgliteWasmFlag(choice: string | undefined): string {
  const flags: Record<string, string> = { baseline: '--liftoff-only', optimized: '--no-liftoff', tiered: '--liftoff' };
  const flag = flags[choice || 'baseline'];
  if (!flag) throw new StartupError(`CAIRN_PGLITE_WASM must be baseline, optimized or tiered, not '${choice}'`);
  return flag;
}

async function runServer(config: Config): Promise<void> {
  if (cluster.isPrimary && config.workers > 1) return runPrimary(config);
  const isWorker = !cluster.isPrimary;
  if (isPglite(config.backendStoreUri) || (config.registryStoreUri && isPglite(config.registryStoreUri))) v8.setFlagsFromString(pgliteWasmFlag(process.env.CAIRN_PGLITE_WASM));
  const metrics = config.exposePrometheus ? await startMetrics(isWorker) : undefined;
  const deps = await createDeps(config, { migrate: !isWorker, poolSize: isWorker ? 8 : 16, metrics });
  if (!isWorker) await closeOnFailure(deps, prepareAuth(deps).then(() => checkArtifactStores(deps)));
  surviveDatabaseFaults(deps.log);
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port, createServer: prefixedServerFactory(config.staticPrefix) }, (info) => {
    if (!isWorker) announce(config, info.port);
    // One process writes the span rows of traces stored before them (the first worker of a cluster).
    if (!isWorker || cluster.worker?.id === 1) void backfillSpanRows(deps, () => deps.lifecycle.draining);
  });
  // Clients pool connections (requests keeps them for minutes); a server that drops idle ones after
  // Node's default 5 s races the client's next request on them. Outlast the usual pools instead.
  if ('keepAliveTimeout' in server) {
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
  }
  server.on('error', (err) => {
    console.error(`cairn: cannot listen on ${config.host}:${config.port}: ${err.message}`);
    process.exit(2);
  });
  const stop = () => drainAndExit(server as http.Server, deps, config.shutdownTimeoutMs);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * Graceful shutdown, as containers ask for it with SIGTERM: /ready turns 503 at once, the listener
 * closes (no new connections), idle keep-alive connections are dropped, and the requests in flight
 * get up to --shutdown-timeout to finish before the process exits anyway (exit code 1 then).
 */
function drainAndExit(server: http.Server, deps: { close(): Promise<void>; lifecycle: { draining: boolean }; log: Logger }, deadlineMs: number): void {
  deps.lifecycle.draining = true;
  deps.log.info('shutting down: finishing requests in flight', { deadlineMs });
  const deadline = setTimeout(() => {
    deps.log.error('shutdown deadline passed with requests still in flight; exiting', { deadlineMs });
    server.closeAllConnections();
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  server.close(() => {
    deps.close().finally(() => process.exit(0));
  });
  server.closeIdleConnections();
  // A keep-alive connection that finishes its request later would stay open until the client
  // drops it: drop each one as soon as it turns idle.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  sweep.unref();
}

// Migrations run once in the primary, then the workers share the port through node:cluster.
async function runPrimary(config: Config): Promise<void> {
  const deps = await createDeps(config);
  try {
    await prepareAuth(deps);
    await checkArtifactStores(deps);
  } finally {
    await deps.close();
  }
  const log = createLogger({ level: config.logLevel });
  if (config.exposePrometheus) (await import('./observability/cluster-metrics.js')).serveClusterMetrics();
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === config.workers) announce(config, config.port);
  });
  // A worker that dies soon after it started would die again at once: space the restarts out
  // (doubling up to 30 s) rather than fork in a tight loop; one that ran for a while restarts at once.
  let quickDeaths = 0;
  const startedAt = new Map<number, number>();
  cluster.on('fork', (worker) => startedAt.set(worker.id, Date.now()));
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    quickDeaths = lived < 10_000 ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(30_000, 250 * 2 ** (quickDeaths - 1));
    log.error('worker exited, starting another', { pid: worker.process.pid, code, inMs: delay });
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, delay);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(0), config.shutdownTimeoutMs + 2000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// prom-client is loaded only with --expose-prometheus (it is a tenth of a second of start-up).
async function startMetrics(isWorker: boolean): Promise<Metrics> {
  const { createMetrics } = await import('./observability/metrics.js');
  const metrics = createMetrics(cairnVersion());
  if (isWorker) {
    // Installed at start, not at the first scrape: the primary asks every worker at once.
    const { clusterScrape } = await import('./observability/cluster-metrics.js');
    metrics.scrape = clusterScrape(metrics.registry);
  }
  return metrics;
}

async function closeOnFailure(deps: { close(): Promise<void> }, step: Promise<void>): Promise<void> {
  try {
    await step;
  } catch (err) {
    await deps.close().catch(() => {});
    throw err;
  }
}

/**
 * A database fault must never end the process: requests answer 503 and the pool reconnects. The
 * pool and every client already handle their `error` events; this is the net under any promise that
 * a fault rejects where nobody awaits it. Anything else unexpected is logged, and the process goes
 * on serving (a request that failed has already been answered 500 by the error hook).
 */
function surviveDatabaseFaults(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    const fault = classifyDbError(reason);
    log.error(fault ? 'database fault outside a request' : 'unhandled rejection', { error: String((reason as Error)?.stack ?? reason) });
  });
  // An `error` event nobody listened for (a driver path we have not seen): survive it when it is a
  // connection fault, which leaves no state behind; anything else is a bug, and the process state is unknown.
  process.on('uncaughtException', (err) => {
    if (classifyDbError(err)?.kind === 'unavailable') {
      log.error('database fault outside a request', { error: String(err?.stack ?? err) });
      return;
    }
    console.error(err);
    process.exit(1);
  });
}

function announce(config: Config, port: number): void {
  for (const line of startupBanner(config, port)) console.log(line);
  const banner = authBanner(config.auth, config.host);
  for (const line of banner.warn) console.error(line);
  for (const line of config.ignoredFlags) console.error(line);
}
