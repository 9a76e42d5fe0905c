import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../src/db/connect.js';
import { searchRunIds } from '../../src/domain/search-runs.js';
import { PlanMemo } from '../../src/domain/search/plan-memo.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';

// A run search's plan choice (chooseNarrowing) is remembered for a few seconds; the rows never are.
// Every search below runs with and without the memo and must return the same runs, while writes
// between them add and remove matches: a remembered list of ids is read again, and a list that
// outgrew its threshold (2 here) is counted again.

let db: Database;
let drop: () => Promise<void>;
let exp: number;
const LIST_OF_TWO = { ids: 2, hashed: 1000, datasetHashed: 1000 };
let clock = 0;

async function addRun(i: number, seed: string): Promise<void> {
  const id = `run${String(i).padStart(2, '0')}`;
  await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri) VALUES (${id}, ${exp}, ${id}, 'u', 'FINISHED', ${i}, ${'/a/' + id})`);
  await rows(db.orm, sql`INSERT INTO params (run_id, key, value) VALUES (${id}, 'seed', ${seed})`);
}

beforeAll(async () => {
  ({ db, drop } = await domainDatabase());
  exp = await insertExperiment(db.orm, 'memo');
  for (let i = 0; i < 30; i++) await addRun(i, i === 3 ? 'rare' : 'common');
});
afterAll(async () => {
  await drop?.();
});

describe('the plan memo', () => {
  it('remembers plans, never rows', async () => {
    const memo = new PlanMemo(5000, 500, () => clock);
    const search = async (filter: string, orderBy: string[] = []) => {
      const query = { experimentIds: [exp], filter, runViewType: 'ACTIVE_ONLY' as const, orderBy };
      const remembered = await searchRunIds(db.orm, query, 0, 100, LIST_OF_TWO, memo);
      expect(remembered).toEqual(await searchRunIds(db.orm, query, 0, 100, LIST_OF_TWO));
      return remembered.map((r) => r.run_id);
    };
    const rare = "params.seed = 'rare'";
    expect(await search(rare)).toEqual(['run03']);
    // A list of ids remembered: a new match is read with it.
    await addRun(30, 'rare');
    expect(await search(rare)).toEqual(['run30', 'run03']);
    // Past the list's threshold: counted again (hashed), all three found, in any order.
    await addRun(31, 'rare');
    expect(await search(rare)).toEqual(['run31', 'run30', 'run03']);
    expect(await search(rare, ['attributes.start_time ASC'])).toEqual(['run03', 'run30', 'run31']);
    // A remembered hashed plan with fewer matches than when it was chosen.
    await rows(db.orm, sql`UPDATE params SET value = 'common' WHERE run_id IN ('run30', 'run31') AND key = 'seed'`);
    expect(await search(rare)).toEqual(['run03']);
    // A common filter (no narrowing) and a deleted run.
    const common = "params.seed = 'common'";
    expect(await search(common)).toHaveLength(31);
    await rows(db.orm, sql`UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_id = 'run00'`);
    expect(await search(common)).toHaveLength(30);
    // An order walked by a param (its walk's length remembered), before and after a write moves a run.
    expect((await search(common, ['params.seed DESC']))[0]).toBe('run31');
    await rows(db.orm, sql`UPDATE params SET value = 'zzz' WHERE run_id = 'run05' AND key = 'seed'`);
    expect((await search("params.seed != 'rare'", ['params.seed DESC'])).slice(0, 2)).toEqual(['run05', 'run31']);
    expect((await search("params.seed != 'rare'", ['params.seed DESC']))).toHaveLength(30);
    // A run-name pattern few runs match: sorted, as the probe chose, then remembered; a write makes
    // more runs match (a walk would now suit them better), and the remembered plan still finds them.
    expect(await search("attributes.run_name LIKE '%9'")).toEqual(['run29', 'run19', 'run09']);
    for (let i = 32; i < 40; i++) await addRun(i * 10 + 9, 'common');
    expect(await search("attributes.run_name LIKE '%9'")).toEqual(['run399', 'run389', 'run379', 'run369', 'run359', 'run349', 'run339', 'run329', 'run29', 'run19', 'run09']);
    expect(await search("attributes.run_name ILIKE '%9'")).toHaveLength(11);
    // Entries expire.
    clock += 6000;
    expect(memo.get('anything')).toBeUndefined();
    expect(await search(rare)).toEqual(['run03']);
  });

  it('keeps at most its size, dropping the oldest first', () => {
    const memo = new PlanMemo(5000, 2, () => 0);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('c', 3);
    expect([memo.get('a'), memo.get('b'), memo.get('c')]).toEqual([undefined, 2, 3]);
  });
});
