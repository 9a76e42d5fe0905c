import { sql } from 'drizzle-orm';
import pg from 'pg';
import { connect, rows, type Database, type Orm } from '../../src/db/connect.js';
import type { Deps } from '../../src/deps.js';
import { uniqueName } from './app.js';
import { dropDatabase } from './drop-database.js';

export interface IsolatedDatabase {
  /** A backend-store URI: in-memory PGlite, or a fresh database on the TEST_DATABASE_URL server. */
  uri: string;
  drop(): Promise<void>;
}

/**
 * An empty database of the suite's own, for tests that seed fixed rows (ids, names) and read back
 * whole result sets: on PGlite a fresh in-memory instance; with TEST_DATABASE_URL a new database on
 * that server (its role needs CREATEDB; `.ci/run` grants it), dropped afterwards.
 */
export async function isolatedDatabase(): Promise<IsolatedDatabase> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) return { uri: 'memory://', drop: async () => {} };
  const name = uniqueName('cairn_t').replace(/[^a-z0-9]/gi, '_').toLowerCase();
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    throw new Error(`cannot create a test database on TEST_DATABASE_URL (the role needs CREATEDB): ${(err as Error).message}`);
  } finally {
    await client.end();
  }
  const uri = new URL(server);
  uri.pathname = `/${name}`;
  return { uri: uri.toString(), drop: () => dropDatabase(server, name) };
}

/** A bare experiment row (no default artifact root involved), for tests that seed rows by SQL; its id. */
export async function insertExperiment(orm: Orm, name: string): Promise<number> {
  const [row] = await rows<{ experiment_id: string }>(
    orm,
    sql`INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES (${name}, ${'/tmp/' + name}, 0, 0) RETURNING experiment_id`,
  );
  return Number(row.experiment_id);
}

/**
 * A migrated isolated database and the smallest Deps the search functions use (the ORM and the
 * database), for tests that call the domain directly; `drop()` closes and removes it.
 */
export async function domainDatabase(): Promise<{ db: Database; deps: Deps; drop(): Promise<void> }> {
  const isolated = await isolatedDatabase();
  const db = await connect(isolated.uri);
  await db.migrate();
  const deps = { db: db.orm, database: db } as unknown as Deps;
  return { db, deps, drop: async () => { await db.close(); await isolated.drop(); } };
}
