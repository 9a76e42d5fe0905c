import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { isPglite, redact } from '../config.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { currentTemplateDump, seedFromTemplate } from './pglite-template.js';
import { startPgliteMaintenance } from './pglite-maintenance.js';
import { createPool, withoutTimeout } from './pool.js';
import * as schema from './schema/index.js';

export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;

/** One database handle for both drivers; domain code only sees `orm` and these helpers. */
export interface Database {
  kind: 'pglite' | 'postgres';
  orm: Orm;
  /** Applies the committed SQL migrations in `migrations/`. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** The node-postgres pool's use now; undefined on PGlite (one connection, no pool). */
  poolUse?(): { total: number; idle: number; waiting: number; max: number };
}

export class StartupError extends Error {}

/** Rows of a raw query, the same on node-postgres and PGlite. */
export async function rows<T = Record<string, unknown>>(db: Orm, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown as { rows: T[] };
  return res.rows;
}

interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string, arrayMode: boolean): { execute(): Promise<unknown> } };
}

/**
 * rows() as a named prepared statement: node-postgres parses it once per connection and Postgres
 * stops planning it on every call (PGlite runs it as is). For hot queries whose SQL text is fixed;
 * each name must always carry the same text.
 */
export async function preparedRows<T = Record<string, unknown>>(db: Orm, name: string, query: SQL): Promise<T[]> {
  const { dialect, session } = db as unknown as DrizzleInternals;
  const res = (await session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false).execute()) as { rows: T[] };
  return res.rows;
}

// The first start of an embedded database runs initdb inside PGlite's WASM heap, which grows it by
// ~650 MiB, and a WASM heap never shrinks. Done in a worker thread, whose heap is freed when it ends,
// a first start measured 490 MiB RSS instead of 860 (a later start: 360).
async function initPgliteInWorker(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const pglite = import.meta.resolve?.('@electric-sql/pglite');
  if (!pglite) return;
  const script = `import(${JSON.stringify(pglite)}).then(async ({ PGlite }) => (await PGlite.create(${JSON.stringify(dir)})).close())`;
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(script, { eval: true });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`initdb worker exited with code ${code}`))));
  });
}

/**
 * Postgres' default 128 MB of shared buffers is memory PGlite touches when it starts, so it was
 * most of the embedded server's RSS (about 100 MiB of it). 16 MB holds the hot indexes of a laptop's
 * store; the rest of the data is read through the operating system's page cache (32 MB measured
 * ~25 MiB more at the laptop pair's peak, docs/bench.md). CAIRN_PGLITE_SHARED_BUFFERS (e.g. 128MB)
 * trades memory back for fewer reads.
 */
function pgliteStartParams(): string[] {
  const sharedBuffers = process.env.CAIRN_PGLITE_SHARED_BUFFERS || '16MB';
  if (!/^\d+(kB|MB|GB)?$/.test(sharedBuffers)) throw new StartupError(`CAIRN_PGLITE_SHARED_BUFFERS must be a size such as 16MB, not '${sharedBuffers}'`);
  return [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
}

/**
 * The extensions every PGlite that opens a Cairn database loads: pg_trgm, for the trigram index on
 * run names (migration 0032). Loaded lazily by Postgres (its library at the first use), so a
 * database without the index pays nothing; one with it cannot write runs without it.
 */
export const PGLITE_EXTENSIONS = { pg_trgm };

export interface ConnectOptions {
  poolSize?: number;
  /** Bound on one statement and on getting a connection (Postgres only), in ms. */
  timeoutMs?: number;
  /** Told about connection faults the pool recovers from by itself. */
  onFault?: (what: string, err: unknown) => void;
  /** Told how long each pool checkout waited, in seconds. */
  onWait?: (seconds: number) => void;
  /**
   * Fail at once when Postgres cannot be reached (the default: a wrong URI is a start-up error).
   * A cluster worker, started after its primary reached the database, skips this: one replaced
   * during an outage serves 503s until Postgres is back rather than failing in a loop.
   */
  probe?: boolean;
}

export async function connect(uri: string, opts: ConnectOptions = {}): Promise<Database> {
  if (isPglite(uri)) {
    const dir = uri === 'memory://' || uri === 'pglite://memory' ? undefined : uri.slice('pglite://'.length);
    let lock: DataDirLock | undefined;
    let client: PGlite;
    try {
      if (dir) {
        fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
        lock = lockDataDir(path.resolve(dir));
        // The folder is ours now (locked): a first start copies the database made at build time.
        if (!seedFromTemplate(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          await initPgliteInWorker(dir);
        }
      }
      const dump = dir ? undefined : currentTemplateDump();
      client = dump
        ? await PGlite.create({ loadDataDir: new Blob([fs.readFileSync(dump)]), startParams: pgliteStartParams(), extensions: PGLITE_EXTENSIONS })
        : await PGlite.create(dir, { startParams: pgliteStartParams(), extensions: PGLITE_EXTENSIONS });
    } catch (err) {
      lock?.release();
      if (err instanceof DataDirLockedError) throw new StartupError(err.message);
      throw new StartupError(`cannot open the embedded database in ${dir}: ${(err as Error).message}`);
    }
    const orm = drizzlePglite({ client, schema }) as unknown as Orm;
    const maintenance = startPgliteMaintenance(client, { onError: (err) => opts.onFault?.('embedded database vacuum', err) });
    return {
      kind: 'pglite',
      orm,
      migrate: () => wrapMigration(() => migratePglite(orm as never, { migrationsFolder: findMigrations() })),
      close: () =>
        maintenance
          .stop()
          .then(() => client.close())
          .finally(() => lock?.release()),
    };
  }
  const max = opts.poolSize ?? 10;
  const pool = createPool(uri, { max, timeoutMs: opts.timeoutMs ?? 30_000, onFault: opts.onFault, onWait: opts.onWait });
  try {
    if (opts.probe !== false) await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StartupError(`cannot connect to the database at ${redact(uri)}: ${(err as Error).message}`);
  }
  const orm = drizzlePg({ client: pool, schema }) as unknown as Orm;
  return {
    kind: 'postgres',
    orm,
    migrate: () => wrapMigration(() => migrateLocked(pool)),
    close: () => pool.end(),
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }),
  };
}

// Several workers or hosts may start at once: a session advisory lock, held on one dedicated
// connection, lets exactly one of them apply migrations while the others wait.
// The migrations, and the wait for another process's, may rightly take longer than a request's
// --db-timeout: that connection is unbounded, and dropped afterwards rather than reused.
async function migrateLocked(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await withoutTimeout(client);
    await client.query('select pg_advisory_lock(727274)');
    await migratePg(drizzlePg({ client }), { migrationsFolder: findMigrations() });
  } finally {
    await client.query('select pg_advisory_unlock(727274)').catch(() => {});
    client.release(true);
  }
}

async function wrapMigration(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    throw new StartupError(`database migration failed: ${rootMessage(err)}`);
  }
}

// drizzle wraps the driver's error in one that quotes the whole SQL; the driver's own words are the useful part.
function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e?.cause) e = e.cause as typeof e;
  return String(e?.message ?? err).replace(/\s+/g, ' ').trim();
}

function findMigrations(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'migrations', 'meta', '_journal.json');
    if (fs.existsSync(candidate)) return path.join(dir, 'migrations');
    const parent = path.dirname(dir);
    if (parent === dir) throw new StartupError('migrations folder not found');
    dir = parent;
  }
}
