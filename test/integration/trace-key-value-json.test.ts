// traces.tags_json and traces.metadata_json (migrations 0034/0035) are what every trace read
// answers with: the triggers on trace_tags and trace_metadata must keep them equal to the rows
// after any write, including two transactions tagging one trace at once, and the migration must
// fill them for the traces a previous Cairn wrote.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rows, type Database, type Orm } from '../../src/db/connect.js';
import { keyValueText } from '../../src/domain/traces/wire.js';
import { isolatedDatabase, insertExperiment, type IsolatedDatabase } from '../harness/database.js';
import { migrationsBefore } from '../harness/migrations.js';
import { staleTraceText } from '../harness/trace-text.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-trace-kv-json-'));
let isolated: IsolatedDatabase;
let db: Database;
let exp: number;

beforeAll(async () => {
  isolated = await isolatedDatabase();
  db = await connect(isolated.uri);
  await db.migrate();
  exp = await insertExperiment(db.orm, 'kv-json');
});

afterAll(async () => {
  await db?.close();
  await isolated?.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (q: ReturnType<typeof sql>) => rows(db.orm, q);

async function addTrace(orm: Orm, id: string): Promise<void> {
  await rows(orm, sql`INSERT INTO traces (trace_id, experiment_id, request_time, state, artifact_location)
    VALUES (${id}, ${exp}, 1, 'OK', ${'/a/' + id})`);
}

/** The traces whose stored text differs from what their rows must give (should be none). */
const stale = (orm: Orm = db.orm) => staleTraceText(orm);

const stored = async (id: string) =>
  (await run(sql`SELECT tags_json, metadata_json, xmin::text AS version FROM traces WHERE trace_id = ${id}`))[0] as
    { tags_json: string | null; metadata_json: string | null; version: string };

describe('the tags and metadata kept in the trace row', () => {
  it('follow every insert, update and delete of the key-value rows', async () => {
    for (const id of ['kv-1', 'kv-2', 'kv-3']) await addTrace(db.orm, id);
    expect(await stored('kv-1')).toMatchObject({ tags_json: null, metadata_json: null });
    // Several traces in one statement, keys inserted out of order: stored in byte order.
    await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-1', 'b', '2'), ('kv-1', 'B', '1'), ('kv-2', 'x', 'y"q'), ('kv-1', 'a', 'é')`);
    await run(sql`INSERT INTO trace_metadata (trace_id, key, value) VALUES ('kv-2', 'user', 'u'), ('kv-3', 'm', '')`);
    // Keys and values JSON must escape (to_json writes them as JSON.stringify does), an integer-like
    // key (kept in byte order, where an object would put it first), and the artifact location tag.
    const odd = 'line\nbreak\t"quoted" back\\slash \u0001 \u2028 ünï 😀';
    await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-3', ${odd}, ${odd}), ('kv-3', '7', 'seven'),
      ('kv-3', 'mlflow.artifactLocation', '/elsewhere')`);
    expect((await stored('kv-3')).tags_json).toBe(`{"7":"seven",${JSON.stringify(odd)}:${JSON.stringify(odd)}}`);
    // What writers of new rows store with them (so the trigger finds nothing to change) is the same text.
    expect(keyValueText([[odd, odd], ['mlflow.artifactLocation', '/elsewhere'], ['7', 'seven']], 'mlflow.artifactLocation')).toBe((await stored('kv-3')).tags_json);
    expect(keyValueText([['b', '2'], ['a', 'é'], ['B', '1']])).toBe((await stored('kv-1')).tags_json);
    expect(keyValueText([])).toBeNull();
    expect(JSON.parse((await stored('kv-1')).tags_json!)).toEqual({ B: '1', a: 'é', b: '2' });
    expect(Object.keys(JSON.parse((await stored('kv-1')).tags_json!))).toEqual(['B', 'a', 'b']);
    expect(JSON.parse((await stored('kv-2')).tags_json!)).toEqual({ x: 'y"q' });
    expect(JSON.parse((await stored('kv-3')).metadata_json!)).toEqual({ m: '' });
    expect(await stale()).toEqual([]);

    // An upsert that changes a value, then one that changes nothing (a retried call): the row is
    // not written again.
    await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-1', 'a', 'new') ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value`);
    expect(JSON.parse((await stored('kv-1')).tags_json!)).toMatchObject({ a: 'new' });
    const before = (await stored('kv-1')).version;
    await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-1', 'a', 'new') ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value`);
    expect((await stored('kv-1')).version).toBe(before);

    await run(sql`UPDATE trace_metadata SET value = 'v' WHERE trace_id = 'kv-2'`);
    await run(sql`DELETE FROM trace_tags WHERE trace_id = 'kv-1' AND key = 'B'`);
    expect(JSON.parse((await stored('kv-1')).tags_json!)).toEqual({ a: 'new', b: '2' });
    // The last row gone: null, as for a trace that never had any.
    await run(sql`DELETE FROM trace_tags WHERE trace_id = 'kv-2'`);
    expect((await stored('kv-2')).tags_json).toBeNull();
    expect(await stale()).toEqual([]);

    // A deleted trace takes its rows with it (the cascade's trigger finds no trace to update).
    await run(sql`DELETE FROM traces WHERE trace_id = 'kv-3'`);
    expect(await run(sql`SELECT 1 FROM trace_metadata WHERE trace_id = 'kv-3'`)).toEqual([]);
    expect(await stale()).toEqual([]);
  });

  it('hold both tags when two transactions tag one trace at once', async () => {
    await addTrace(db.orm, 'kv-race');
    if (db.kind === 'pglite') {
      // One connection: the transactions follow each other.
      await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-race', 'first', '1')`);
      await run(sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-race', 'second', '2')`);
    } else {
      const [a, b] = [new pg.Client({ connectionString: isolated.uri }), new pg.Client({ connectionString: isolated.uri })];
      await Promise.all([a.connect(), b.connect()]);
      try {
        await a.query('BEGIN');
        await a.query(`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-race', 'first', '1')`);
        await b.query('BEGIN');
        // b's trigger waits for a's lock on the trace; its text must then include a's tag.
        const second = b.query(`INSERT INTO trace_tags (trace_id, key, value) VALUES ('kv-race', 'second', '2')`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await a.query('COMMIT');
        await second;
        await b.query('COMMIT');
      } finally {
        await Promise.all([a.end(), b.end()]);
      }
    }
    expect(JSON.parse((await stored('kv-race')).tags_json!)).toEqual({ first: '1', second: '2' });
    expect(await stale()).toEqual([]);
  });
});

describe('migrations 0034/0035', () => {
  it('fill the text of the traces written before them', async () => {
    const dir = path.join(tmp, 'db');
    const lite = await PGlite.create(dir);
    try {
      const orm = drizzle(lite) as unknown as Orm;
      await migrate(orm as never, { migrationsFolder: migrationsBefore(path.join(tmp, 'before'), '0034_trace_key_value_json') });
      const old = await insertExperiment(orm, 'before');
      for (const id of ['old-1', 'old-2']) {
        await rows(orm, sql`INSERT INTO traces (trace_id, experiment_id, request_time, state, artifact_location) VALUES (${id}, ${old}, 1, 'OK', '/a')`);
      }
      await rows(orm, sql`INSERT INTO trace_tags (trace_id, key, value) VALUES ('old-1', 'z', '1'), ('old-1', 'k', '2')`);
      await rows(orm, sql`INSERT INTO trace_metadata (trace_id, key, value) VALUES ('old-1', 'user', 'u')`);
      await migrate(orm as never, { migrationsFolder: path.resolve(import.meta.dirname, '../../migrations') });
      const found = await rows<{ trace_id: string; tags_json: string | null; metadata_json: string | null }>(
        orm,
        sql`SELECT trace_id, tags_json, metadata_json FROM traces ORDER BY trace_id`,
      );
      expect(found.map((r) => [r.trace_id, r.tags_json && JSON.parse(r.tags_json), r.metadata_json && JSON.parse(r.metadata_json)])).toEqual([
        ['old-1', { k: '2', z: '1' }, { user: 'u' }],
        ['old-2', null, null],
      ]);
      expect(await stale(orm)).toEqual([]);
    } finally {
      await lite.close();
    }
  });
});
