import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../src/db/connect.js';
import type { Deps } from '../../src/deps.js';
import { searchRuns } from '../../src/domain/search-runs.js';
import { MlflowError } from '../../src/errors.js';
import { encodeOffsetToken } from '../../src/lib/page-token.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';
import { followPages } from '../harness/pages.js';

// Page tokens of searches in the default order name the page's last run, and the next page starts
// after it (keysetPage): the pages must be exactly the slices of the whole result, through ties of
// start_time, runs without one (last), deleted runs and filters; old offset tokens still work.

let drop: () => Promise<void>;
let db: Database;
let deps: Deps;
let expA: number;
let expB: number;

const experiment = (name: string) => insertExperiment(db.orm, name);

async function run(id: string, exp: number, start: number | null, stage = 'active', seed = '0'): Promise<void> {
  await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
    VALUES (${id}, ${exp}, ${'run-' + id}, 'u', 'FINISHED', ${start}, ${'/a/' + id}, ${stage})`);
  await rows(db.orm, sql`INSERT INTO params (run_id, key, value) VALUES (${id}, 'seed', ${seed})`);
}

type Input = Parameters<typeof searchRuns>[1];

async function ids(input: Input): Promise<{ ids: string[]; token?: string }> {
  const out = await searchRuns(deps, input);
  return { ids: (out.runs ?? []).map((r) => r.info.run_id), token: out.next_page_token };
}

/** Every page of `size` runs, following the tokens. */
const paged = (input: Input, size: number): Promise<string[]> =>
  followPages(async (token) => {
    const page = await ids({ ...input, max_results: size, page_token: token });
    return { items: page.ids, token: page.token };
  }, 100);

beforeAll(async () => {
  ({ db, deps, drop } = await domainDatabase());
  expA = await experiment('keyset-a');
  expB = await experiment('keyset-b');
  // Ties on start_time (ordered by run_id), runs without a start_time (after every other), a
  // deleted run, and runs of a second experiment interleaved in time.
  const seeds: Array<[string, number, number | null, string?]> = [
    ['a1', expA, 300], ['a2', expA, 200], ['a3', expA, 200], ['a0', expA, 200], ['a4', expA, 100],
    ['a5', expA, null], ['a6', expA, null], ['a7', expA, 250, 'deleted'], ['a8', expA, 50],
    ['b1', expB, 250], ['b2', expB, 200], ['b3', expB, null],
  ];
  for (const [i, [id, exp, start, stage]] of seeds.entries()) await run(id, exp, start, stage, String(i % 3));
});

afterAll(async () => {
  await drop?.();
});

describe('search_runs pages in the default order', () => {
  it('are the slices of the whole result, whatever the page size, filter or view', async () => {
    const inputs: Input[] = [
      { experiment_ids: [String(expA)] },
      { experiment_ids: [String(expA), String(expB)] },
      { experiment_ids: [String(expA), String(expB)], run_view_type: 'ALL' },
      { experiment_ids: [String(expA)], run_view_type: 'DELETED_ONLY' },
      { experiment_ids: [String(expA), String(expB)], filter: "params.seed = '1'" },
      { experiment_ids: [String(expA), String(expB)], filter: 'attributes.start_time < 250' },
      { experiment_ids: [String(expA)], order_by: [] },
    ];
    for (const input of inputs) {
      const whole = (await ids({ ...input, max_results: 1000 })).ids;
      expect(whole.length).toBeGreaterThan(0);
      for (const size of [1, 2, 3, 5]) expect(await paged(input, size), `${JSON.stringify(input)} by ${size}`).toEqual(whole);
    }
    // The order itself: start_time DESC, ties by run_id, runs without one last.
    expect((await ids({ experiment_ids: [String(expA)], max_results: 1000 })).ids).toEqual(['a1', 'a0', 'a2', 'a3', 'a4', 'a8', 'a5', 'a6']);
  });

  it('continue after the named run when runs come or go before it, and accept offset tokens', async () => {
    const input: Input = { experiment_ids: [String(expA)], max_results: 3 };
    const first = await ids(input);
    expect(first.ids).toEqual(['a1', 'a0', 'a2']);
    // An offset token (as before keyset tokens) is the page at that offset.
    expect((await ids({ ...input, page_token: encodeOffsetToken(3) })).ids).toEqual(['a3', 'a4', 'a8']);
    await run('a9', expA, 400);
    try {
      // A new run ahead of the page moves offsets, not the run the token names.
      expect((await ids({ ...input, page_token: first.token })).ids).toEqual(['a3', 'a4', 'a8']);
    } finally {
      await rows(db.orm, sql`DELETE FROM runs WHERE run_id = 'a9'`);
    }
    // The page after a run without a start_time.
    const tail = await ids({ experiment_ids: [String(expA)], max_results: 7 });
    expect(tail.ids.at(-1)).toBe('a5');
    expect((await ids({ experiment_ids: [String(expA)], max_results: 7, page_token: tail.token })).ids).toEqual(['a6']);
  });

  it('use the offset of a token when the order is not the default one', async () => {
    const first = await ids({ experiment_ids: [String(expA)], max_results: 2 });
    const byName = await ids({ experiment_ids: [String(expA)], max_results: 1000, order_by: ['attributes.run_name DESC'] });
    expect((await ids({ experiment_ids: [String(expA)], max_results: 2, order_by: ['attributes.run_name DESC'], page_token: first.token })).ids).toEqual(
      byName.ids.slice(2, 4),
    );
  });

  it('refuse a token whose run key is malformed as an invalid parameter', async () => {
    for (const after of [['x', 'a1'], [1, 'a1'], [null, ''], ['100'], 'a1']) {
      const token = Buffer.from(JSON.stringify({ offset: 2, after })).toString('base64');
      const err = await searchRuns(deps, { experiment_ids: [String(expA)], page_token: token }).catch((e: unknown) => e);
      expect(err, JSON.stringify(after)).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});
