import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintain } from '../../src/db/pglite-maintenance.js';

// PGlite has no autovacuum: Cairn vacuums and analyzes the tables that grew (src/db/pglite-maintenance.ts).

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`create table big (id int primary key, v float8); create table small (id int);
                 insert into big select g, g from generate_series(1, 60000) g; insert into small values (1)`);
});
afterAll(() => db.close());

const stats = async (table: string) =>
  (await db.query<{ reltuples: number; relpages: number }>(`select reltuples, relpages from pg_class where relname = $1`, [table])).rows[0];

describe('PGlite maintenance', () => {
  it('vacuums and analyzes a table that was never vacuumed, then only once it has grown by half', async () => {
    expect((await stats('big')).reltuples).toBeLessThan(0); // never analyzed
    const vacuumed: string[] = [];
    expect(await maintain(db, { quietMs: Infinity, onVacuum: (t) => vacuumed.push(t) })).toEqual(['big']);
    expect(vacuumed).toEqual(['big']);
    expect((await stats('big')).reltuples).toBe(60000);
    // The visibility map is set: an index-only scan reads no table pages.
    const plan = (await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) select count(*) from big where id between 10 and 30000`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Heap Fetches: 0/);
    // Nothing more to do until it grows by half; a tiny table is never worth it.
    expect(await maintain(db, { quietMs: Infinity })).toEqual([]);
    await db.exec(`insert into big select g, g from generate_series(60001, 80000) g`);
    expect(await maintain(db, { quietMs: Infinity })).toEqual([]);
    await db.exec(`insert into big select g, g from generate_series(80001, 100000) g`);
    expect(await maintain(db, { quietMs: Infinity })).toEqual(['big']);
    expect((await stats('big')).reltuples).toBe(100000);
  });
});
