import type { Config } from './config.js';
import { connect, type Database, type Orm } from './db/connect.js';
import { ensureDefaultExperiment } from './domain/experiments.js';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Everything a request needs, passed in rather than imported, so tests can build as many as they like. */
export interface Deps {
  config: Config;
  database: Database;
  db: Orm;
  log: Logger;
  now: () => number;
}

export const consoleLogger: Logger = {
  info: (msg, fields) => console.log(JSON.stringify({ level: 'info', msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: 'error', msg, ...fields })),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };

export interface CreateDepsOptions {
  log?: Logger;
  /** Skip migrations (a cluster worker whose primary already applied them). */
  migrate?: boolean;
  poolSize?: number;
}

export async function createDeps(config: Config, opts: CreateDepsOptions = {}): Promise<Deps & { close(): Promise<void> }> {
  const database = await connect(config.backendStoreUri, { poolSize: opts.poolSize });
  const deps: Deps = { config, database, db: database.orm, log: opts.log ?? consoleLogger, now: Date.now };
  try {
    if (opts.migrate !== false) {
      await database.migrate();
      await ensureDefaultExperiment(deps);
    }
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  return { ...deps, close: () => database.close() };
}
