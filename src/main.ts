import cluster from 'node:cluster';
import v8 from 'node:v8';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { authBanner, prepareAuth } from './auth/startup.js';
import { ConfigError, isPglite, parseConfig, redact, type Config } from './config.js';
import { StartupError } from './db/connect.js';
import { consoleLogger, createDeps } from './deps.js';
import { IMPORT_USAGE, importCommand } from './importers/cli.js';
import { KEYS_USAGE, keysCommand } from './routes/wandb/keys-cli.js';

const USAGE = `usage: cairn server [--host H] [--port P] [--backend-store-uri URI] [--default-artifact-root URI]
                    [--artifacts-destination URI] [--serve-artifacts | --no-serve-artifacts] [--workers N]
                    [--app-name basic-auth] [--auth-default-permission P] [--auth-admin-username NAME]
       cairn db migrate [--backend-store-uri URI]
       ${KEYS_USAGE}
       ${IMPORT_USAGE}`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'server' || command === undefined) return await runServer(parseConfig(rest));
    if (command === 'db' && rest[0] === 'migrate') return await migrateOnly(parseConfig(rest.slice(1)));
    if (command === 'keys') return await keysCommand(rest);
    if (command === 'import') return void (process.exitCode = await importCommand(rest));
    if (command === '--help' || command === 'help') {
      console.log(USAGE);
      return;
    }
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
}

async function runServer(config: Config): Promise<void> {
  if (cluster.isPrimary && config.workers > 1) return runPrimary(config);
  const isWorker = !cluster.isPrimary;
  // PGlite's WASM is compiled twice by default (a quick baseline, then optimised code); compiling it
  // optimised only costs about a second at start and keeps ~50 MiB of code out of the embedded server.
  if (isPglite(config.backendStoreUri)) v8.setFlagsFromString('--no-liftoff');
  const deps = await createDeps(config, { migrate: !isWorker, poolSize: isWorker ? 8 : 16 });
  if (!isWorker) await closeOnFailure(deps, prepareAuth(deps));
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    if (!isWorker) announce(config, info.port);
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
  const stop = () => server.close(() => deps.close().finally(() => process.exit(0)));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// Migrations run once in the primary, then the workers share the port through node:cluster.
async function runPrimary(config: Config): Promise<void> {
  const deps = await createDeps(config);
  await closeOnFailure(deps, prepareAuth(deps));
  await deps.close();
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === config.workers) announce(config, config.port);
  });
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    consoleLogger.error('worker exited, starting another', { pid: worker.process.pid, code });
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function closeOnFailure(deps: { close(): Promise<void> }, step: Promise<void>): Promise<void> {
  try {
    await step;
  } catch (err) {
    await deps.close().catch(() => {});
    throw err;
  }
}

function announce(config: Config, port: number): void {
  const store = isPglite(config.backendStoreUri) ? `embedded Postgres (${config.backendStoreUri})` : redact(config.backendStoreUri);
  console.log(`Cairn listening on http://${config.host}:${port} (backend: ${store}, workers: ${config.workers})`);
  console.log(`  export MLFLOW_TRACKING_URI=http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`);
  const banner = authBanner(config.auth, config.host);
  for (const line of banner.info) console.log(line);
  for (const line of banner.warn) console.error(line);
  console.log(`  export WANDB_BASE_URL=http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port} WANDB_API_KEY=$(node bin/cairn.js keys create)`);
}
