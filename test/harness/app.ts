import { prefixedListener } from '../../src/cli/static-prefix.js';
import http from 'node:http';
import { getRequestListener } from '@hono/node-server';
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { prepareAuth } from '../../src/auth/startup.js';
import { parseConfig } from '../../src/config.js';
import { createDeps, silentLogger, type Deps, type Logger } from '../../src/deps.js';
import { createMetrics } from '../../src/observability/metrics.js';

export interface TestApp {
  deps: Deps;
  server: http.Server;
  api: supertest.Agent;
  close(): Promise<void>;
}

/** Which database the suite runs on: a Postgres server when TEST_DATABASE_URL is set, else in-memory PGlite. */
export const testBackend = () => process.env.TEST_DATABASE_URL ?? 'memory://';

export interface TestAppOptions {
  /** The environment config.ts reads (none by default). */
  env?: NodeJS.ProcessEnv;
  /** Drop open connections at close, for suites that leave uploads hanging. */
  closeAllConnections?: boolean;
  /** Where the app logs (silent by default). */
  log?: Logger;
  /** Collect /metrics, as the server does with --expose-prometheus. */
  metrics?: boolean;
}

/** The real app on a real database, served by a real Node HTTP server on a free loopback port. */
export async function startTestApp(extraArgs: string[] = [], options: TestAppOptions = {}): Promise<TestApp> {
  const config = parseConfig(['--backend-store-uri', testBackend(), '--workers', '1', ...extraArgs], options.env ?? {});
  const metrics = options.metrics ? createMetrics('test') : undefined;
  const deps = await createDeps(config, { log: options.log ?? silentLogger, poolSize: 4, metrics });
  await prepareAuth(deps);
  const app = createApp(deps);
  const server = http.createServer(prefixedListener(config.staticPrefix, getRequestListener(app.fetch)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    deps,
    server,
    api: supertest.agent(server),
    close: async () => {
      if (options.closeAllConnections) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
    },
  };
}

let counter = 0;
/** A name no other test (or earlier run against the same Postgres) uses. */
export const uniqueName = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
