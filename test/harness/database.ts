import pg from 'pg';
import { uniqueName } from './app.js';

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
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  try {
    await admin(`CREATE DATABASE "${name}"`);
  } catch (err) {
    throw new Error(`cannot create a test database on TEST_DATABASE_URL (the role needs CREATEDB): ${(err as Error).message}`);
  }
  const uri = new URL(server);
  uri.pathname = `/${name}`;
  return { uri: uri.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
