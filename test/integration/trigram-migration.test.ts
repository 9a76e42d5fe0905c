// Migration 0032 makes a trigram index on run names when pg_trgm can be had, and otherwise skips it
// with a NOTICE: the migration must succeed either way, and searches stay correct without it.
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { describe, expect, it } from 'vitest';
import { connect, PGLITE_EXTENSIONS, rows, type Orm } from '../../src/db/connect.js';
import { searchRunIds } from '../../src/domain/search-runs.js';
import { isolatedDatabase } from '../harness/database.js';
import { MIGRATIONS } from '../harness/migrations.js';

async function seedAndSearch(db: Orm): Promise<string[][]> {
  const [{ experiment_id: exp }] = await rows<{ experiment_id: string }>(
    db,
    sql`INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ('trgm', '/t', 0, 0) RETURNING experiment_id`,
  );
  // 3,000 runs, the oldest named run-1…: past the capped walk of a first page.
  await rows(db, sql`INSERT INTO runs (run_id, experiment_id, name, artifact_uri, start_time)
    SELECT 'r' || lpad(i::text, 4, '0'), ${exp}, CASE WHEN i < 20 THEN 'Run-1-' || i ELSE 'run-' || i END, '/a', i FROM generate_series(0, 2999) i`);
  const scope = { experimentIds: [Number(exp)], runViewType: 'ACTIVE_ONLY' as const };
  const ids = async (filter: string) => (await searchRunIds(db, { ...scope, filter }, 0, 3)).map((r) => r.run_id);
  return [await ids("attributes.run_name ILIKE '%n-1-1%'"), await ids("attributes.run_name LIKE '%-99'"), await ids("attributes.run_name LIKE 'Run-1-%'")];
}

const EXPECTED = [['r0019', 'r0018', 'r0017'], ['r0099'], ['r0019', 'r0018', 'r0017']];

/** The migration left neither the extension nor the index, and searches still answer right. */
async function expectSkippedAndCorrect(db: Orm): Promise<void> {
  const [{ index, extension }] = await rows<{ index: string | null; extension: string | null }>(
    db,
    sql`SELECT to_regclass('runs_name_trgm_idx')::text AS index, (SELECT extname::text FROM pg_extension WHERE extname = 'pg_trgm') AS extension`,
  );
  expect(index).toBeNull();
  expect(extension).toBeNull();
  expect(await seedAndSearch(db)).toEqual(EXPECTED);
}

describe('the run-name trigram migration', () => {
  it('succeeds without pg_trgm (PGlite without the extension loaded), leaving searches correct', async () => {
    const pg = await PGlite.create();
    const db = drizzle(pg) as unknown as Orm;
    try {
      await migrate(db as never, { migrationsFolder: MIGRATIONS });
      await expectSkippedAndCorrect(db);
    } finally {
      await pg.close();
    }
  }, 180_000);

  it('succeeds where CREATE EXTENSION fails (a function of its own name in the way), leaving searches correct', async () => {
    // On Postgres a fresh database of the test server; else PGlite with pg_trgm loaded, as Cairn opens it.
    const isolated = process.env.TEST_DATABASE_URL ? await isolatedDatabase() : undefined;
    const database = isolated ? await connect(isolated.uri) : undefined;
    const pg = isolated ? undefined : await PGlite.create({ extensions: PGLITE_EXTENSIONS });
    const db = database?.orm ?? (drizzle(pg!) as unknown as Orm);
    try {
      await rows(db, sql`CREATE FUNCTION public.show_trgm(text) RETURNS text[] LANGUAGE sql AS 'SELECT NULL::text[]'`);
      if (database) await database.migrate();
      else await migrate(db as never, { migrationsFolder: MIGRATIONS });
      await expectSkippedAndCorrect(db);
    } finally {
      await database?.close();
      await isolated?.drop();
      await pg?.close();
    }
  }, 180_000);

  it('makes the index with the extension loaded (in the schema of an existing install), searches the same', async () => {
    const isolated = await isolatedDatabase();
    const database = await connect(isolated.uri);
    try {
      if (process.env.TEST_DATABASE_URL) {
        // An existing install in a schema off the search path: the index names its operator class there.
        await rows(database.orm, sql`CREATE SCHEMA trgm_elsewhere`);
        await rows(database.orm, sql`CREATE EXTENSION pg_trgm SCHEMA trgm_elsewhere`);
      }
      await database.migrate();
      const [{ definition }] = await rows<{ definition: string | null }>(database.orm, sql`SELECT pg_get_indexdef(to_regclass('runs_name_trgm_idx')) AS definition`);
      expect(definition).toMatch(/USING gin \(name (trgm_elsewhere\.)?gin_trgm_ops\)/);
      if (process.env.TEST_DATABASE_URL) expect(definition).toContain('trgm_elsewhere.gin_trgm_ops');
      expect(await seedAndSearch(database.orm)).toEqual(EXPECTED);
    } finally {
      await database.close();
      await isolated.drop();
    }
  }, 180_000);
});
