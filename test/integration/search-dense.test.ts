import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../src/db/connect.js';
import { chooseNarrowing, searchRunIds } from '../../src/domain/search-runs.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';

// A param or tag filter that a quarter of all runs or more match is probed run by run as the order is
// walked (chooseNarrowing's DENSE, from the planner's count of runs; Narrowing 'probed'): Postgres,
// which cannot estimate a key-value pair, chose a join and a sort of every match instead. Before the first ANALYZE there is no count, and the thresholds alone decide.

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
  it('is hashed before the planner counts the runs, probed after, with the same runs in every order', async () => {
    const query = { experimentIds: [exp], filter: "params.opt = 'adam'", runViewType: 'ACTIVE_ONLY' as const };
    // A table never analysed (40 inserts are below autovacuum's threshold of 50) has no count: -1.
    const unknown = (await rows<{ n: number }>(db.orm, sql`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'runs'::regclass`))[0].n;
    expect(unknown).toBeLessThanOrEqual(0);
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, 100)).narrow?.form).toBe('hashed');
    // In the default order the newest runs searched are sampled instead: half of them match.
    const scope = { experimentIds: [exp], runViewType: 'ACTIVE_ONLY' as const };
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, scope, 100, true)).narrow).toEqual({ index: 0, form: 'probed' });
    expect((await chooseNarrowing(db.orm, "params.seed = 'rare'", HASH_ALL, scope, 100, true)).narrow?.form).toBe('hashed');
    const orders = [[], ['params.seed DESC'], ['attributes.run_name ASC'], ['attributes.start_time ASC']];
    const pages = () => Promise.all(orders.map((orderBy) => searchRunIds(db.orm, { ...query, orderBy }, 0, 100, HASH_ALL)));
    const hashedPages = await pages();
    await rows(db.orm, sql`ANALYZE runs`);
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, 100)).narrow).toEqual({ index: 0, form: 'probed' });
    // A page deep into the runs keeps it hashed.
    expect((await chooseNarrowing(db.orm, query.filter, HASH_ALL, undefined, 5000)).narrow?.form).toBe('hashed');
    // Another filter that narrows the search wins over the probe.
    expect((await chooseNarrowing(db.orm, "params.opt = 'adam' AND params.seed = 'rare'", HASH_ALL, undefined, 100)).narrow).toEqual({ index: 1, form: 'hashed' });
    // 2 runs of 40: still hashed.
    expect((await chooseNarrowing(db.orm, "params.seed = 'rare'", HASH_ALL, undefined, 100)).narrow?.form).toBe('hashed');
    const probedPages = await pages();
    expect(probedPages).toEqual(hashedPages);
    expect(probedPages.map((p) => p.length)).toEqual([20, 20, 20, 20]);
  });
});
