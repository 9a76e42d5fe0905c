import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../src/db/connect.js';
import { chooseNarrowing, searchRunIds } from '../../src/domain/search-runs.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';

// Ordered by a metric, param or tag, a param or tag filter that a quarter of all runs or more match is
// left as an EXISTS (chooseNarrowing's DENSE, from the planner's count of runs): hashed, Postgres
// joined and sorted every match instead of walking the order. Before the first ANALYZE there is no count, and the thresholds alone decide.

let db: Database;
let drop: () => Promise<void>;
let exp: number;
const HASH_ALL = { ids: 0, hashed: 1000, datasetHashed: 1000 };

beforeAll(async () => {
  ({ db, drop } = await domainDatabase());
  exp = await insertExperiment(db.orm, 'dense');
  for (let i = 0; i < 40; i++) {
    const id = `run${String(i).padStart(2, '0')}`;
    await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri) VALUES (${id}, ${exp}, ${id}, 'u', 'FINISHED', ${i}, ${'/a/' + id})`);
    await rows(db.orm, sql`INSERT INTO params (run_id, key, value) VALUES (${id}, 'opt', ${i % 2 ? 'adam' : 'sgd'}), (${id}, 'seed', ${i % 20 ? 'common' : 'rare'})`);
  }
});
afterAll(async () => {
  await drop?.();
});

describe('a filter most runs match', () => {
  it('is hashed before the planner counts the runs, an EXISTS after when the order is walked, with the same runs', async () => {
    const query = { experimentIds: [exp], filter: "params.opt = 'adam'", runViewType: 'ACTIVE_ONLY' as const, orderBy: ['params.seed DESC'] };
    // A table never analysed (40 inserts are below autovacuum's threshold of 50) has no count: -1.
    const unknown = (await rows<{ n: number }>(db.orm, sql`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'runs'::regclass`))[0].n;
    expect(unknown).toBeLessThanOrEqual(0);
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, true)).narrow?.form).toBe('hashed');
    const hashedPage = await searchRunIds(db.orm, query, 0, 100, HASH_ALL);
    await rows(db.orm, sql`ANALYZE runs`);
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, true)).narrow).toBeUndefined();
    // In the default order (the runs' own index walked) it stays hashed.
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, false)).narrow?.form).toBe('hashed');
    // 2 runs of 40: still hashed.
    expect((await chooseNarrowing(db.orm, "params.seed = 'rare'", HASH_ALL, undefined, true)).narrow?.form).toBe('hashed');
    const walkedPage = await searchRunIds(db.orm, query, 0, 100, HASH_ALL);
    expect(walkedPage).toEqual(hashedPage);
    expect(walkedPage.length).toBe(20);
  });
});
