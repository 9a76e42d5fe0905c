import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database } from '../../src/db/connect.js';
import type { Deps } from '../../src/deps.js';
import { searchTraces, searchTracesJson } from '../../src/domain/traces/read.js';
import { MlflowError } from '../../src/errors.js';
import { encodeOffsetToken } from '../../src/lib/page-token.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';
import { followPages } from '../harness/pages.js';

// Page tokens of trace searches in the default order (request_time DESC, trace_id) name the page's
// last trace, and the next page starts after it (traceSearchQuery's keyset): the pages must be
// exactly the slices of the whole result, through ties of request_time, filters, deleted traces and
// two experiments; offset tokens from before still work, and a token sent with another order,
// filter or experiments is its offset.

let drop: () => Promise<void>;
let db: Database;
let deps: Deps;
let expA: number;
let expB: number;

const experiment = (name: string) => insertExperiment(db.orm, name);

async function trace(id: string, exp: number, time: number, state: string, color: string): Promise<void> {
  await rows(db.orm, sql`INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, artifact_location, name)
    VALUES (${id}, ${exp}, ${time}, ${time % 7}, ${state}, ${'/a/' + id}, ${'n-' + color})`);
  await rows(db.orm, sql`INSERT INTO trace_tags (trace_id, key, value) VALUES (${id}, 'color', ${color}), (${id}, 'mlflow.traceName', ${'n-' + color})`);
  await rows(db.orm, sql`INSERT INTO trace_metadata (trace_id, key, value) VALUES (${id}, 'i', ${id})`);
}

type Input = Parameters<typeof searchTraces>[1];

async function ids(input: Input): Promise<{ ids: string[]; token?: string }> {
  const out = await searchTraces(deps, input);
  return { ids: out.traces.map((t) => t.trace_id), token: out.next_page_token };
}

/** Every page of `size` traces, following the tokens, as the v3 answer's JSON text (the traces' part). */
async function paged(input: Input, size: number): Promise<{ ids: string[]; json: string[] }> {
  const traces = await followPages(async (token) => {
    const text = await searchTracesJson(deps, { ...input, max_results: size, page_token: token });
    const page = JSON.parse(text) as { traces?: Array<{ trace_id: string }>; next_page_token?: string };
    return { items: page.traces ?? [], token: page.next_page_token };
  }, 200);
  return { ids: traces.map((t) => t.trace_id), json: traces.map((t) => JSON.stringify(t)) };
}

beforeAll(async () => {
  ({ db, deps, drop } = await domainDatabase());
  expA = await experiment('tkeyset-a');
  expB = await experiment('tkeyset-b');
  // Runs of equal request_time (ordered by trace_id, inserted out of order), time 0 (a v2 trace
  // without a start time), traces deleted before the search, and a second experiment interleaved.
  const seeds: Array<[string, number, number, string]> = [
    ['tr-05', expA, 300, 'OK'], ['tr-02', expA, 200, 'OK'], ['tr-09', expA, 200, 'ERROR'], ['tr-01', expA, 200, 'OK'],
    ['tr-07', expA, 200, 'OK'], ['tr-03', expA, 100, 'ERROR'], ['tr-11', expA, 0, 'OK'], ['tr-10', expA, 0, 'OK'],
    ['tr-04', expA, 250, 'OK'], ['tr-06', expA, 50, 'IN_PROGRESS'], ['tr-08', expA, 200, 'OK'],
    ['tb-1', expB, 250, 'OK'], ['tb-2', expB, 200, 'ERROR'], ['tb-3', expB, 0, 'OK'], ['tb-0', expB, 200, 'OK'],
    ['gone-1', expA, 200, 'OK'], ['gone-2', expB, 260, 'OK'],
  ];
  for (const [i, [id, exp, time, state]] of seeds.entries()) await trace(id, exp, time, state, ['red', 'blue', 'green'][i % 3]);
  await rows(db.orm, sql`DELETE FROM traces WHERE trace_id LIKE 'gone-%'`);
});

afterAll(async () => {
  await drop?.();
});

describe('search_traces pages in the default order', () => {
  it('are the slices of the whole result, whatever the page size, filter or experiments', async () => {
    const [a, b] = [String(expA), String(expB)];
    const inputs: Input[] = [
      { experimentIds: [a] },
      { experimentIds: [a, b] },
      { experimentIds: [b, a], order_by: ['timestamp_ms DESC'] },
      { experimentIds: [a], order_by: ['attributes.timestamp_ms DESC', 'trace_id ASC'] },
      { experimentIds: [a, b], filter: "tags.color = 'red'" },
      { experimentIds: [a, b], filter: "trace.status = 'OK'" },
      { experimentIds: [a], filter: 'trace.timestamp_ms < 250' },
      { experimentIds: [a, b], filter: "trace.name != 'n-blue' AND metadata.i LIKE 'tr-%'" },
      // Other orders: offset pages, as before.
      { experimentIds: [a, b], order_by: ['timestamp_ms ASC'] },
      { experimentIds: [a], order_by: ['execution_time DESC'] },
    ];
    for (const input of inputs) {
      const whole = await paged(input, 500);
      expect(whole.ids.length).toBeGreaterThan(1);
      for (const size of [1, 2, 3, 5]) {
        const pages = await paged(input, size);
        // The traces themselves, byte for byte, and the v2 shape's ids.
        expect(pages.json, `${JSON.stringify(input)} by ${size}`).toEqual(whole.json);
        const v2: string[] = [];
        let token: string | undefined;
        do {
          const page = await ids({ ...input, max_results: size, page_token: token });
          v2.push(...page.ids);
          token = page.token;
        } while (token);
        expect(v2, `${JSON.stringify(input)} by ${size} (v2)`).toEqual(whole.ids);
      }
    }
    // The order itself: request_time DESC, ties by trace_id; deleted traces are gone.
    expect((await ids({ experimentIds: [a] })).ids).toEqual(['tr-05', 'tr-04', 'tr-01', 'tr-02', 'tr-07', 'tr-08', 'tr-09', 'tr-03', 'tr-06', 'tr-10', 'tr-11']);
  });

  it('continue after the named trace when traces come or go before it, and accept offset tokens', async () => {
    const input: Input = { experimentIds: [String(expA)], max_results: 3 };
    const first = await ids(input);
    expect(first.ids).toEqual(['tr-05', 'tr-04', 'tr-01']);
    expect(JSON.parse(Buffer.from(first.token!, 'base64').toString())).toMatchObject({ offset: 3, after: ['200', 'tr-01'] });
    // An offset token (as Cairn issued before) is the page at that offset.
    expect((await ids({ ...input, page_token: encodeOffsetToken(3) })).ids).toEqual(['tr-02', 'tr-07', 'tr-08']);
    await trace('tr-00', expA, 400, 'OK', 'red');
    try {
      // A new trace ahead of the page moves offsets, not the trace the token names.
      expect((await ids({ ...input, page_token: first.token })).ids).toEqual(['tr-02', 'tr-07', 'tr-08']);
      // The named trace itself deleted: the page still starts after its place.
      await rows(db.orm, sql`DELETE FROM traces WHERE trace_id = 'tr-01'`);
      expect((await ids({ ...input, page_token: first.token })).ids).toEqual(['tr-02', 'tr-07', 'tr-08']);
    } finally {
      await rows(db.orm, sql`DELETE FROM traces WHERE trace_id = 'tr-00'`);
      await trace('tr-01', expA, 200, 'OK', 'red');
    }
    // Through the last run of time 0 to the end.
    const tail = await ids({ experimentIds: [String(expA)], max_results: 10 });
    expect(tail.ids.at(-1)).toBe('tr-10');
    const last = await ids({ experimentIds: [String(expA)], max_results: 10, page_token: tail.token });
    expect(last).toEqual({ ids: ['tr-11'], token: undefined });
  });

  it('use the offset of a token sent with another order, filter or experiments', async () => {
    const a = String(expA);
    const first = await ids({ experimentIds: [a], max_results: 2 });
    const other = async (input: Input) => {
      const whole = await ids({ ...input, max_results: 500 });
      expect((await ids({ ...input, max_results: 2, page_token: first.token })).ids, JSON.stringify(input)).toEqual(whole.ids.slice(2, 4));
    };
    await other({ experimentIds: [a], order_by: ['timestamp_ms ASC'] });
    await other({ experimentIds: [a], order_by: ['trace_id DESC'] });
    await other({ experimentIds: [a], filter: "trace.status = 'OK'" });
    await other({ experimentIds: [a, String(expB)] });
    // The same search with its experiments in another order is the same search: the keyset page.
    const both = await ids({ experimentIds: [a, String(expB)], max_results: 4 });
    const next = await ids({ experimentIds: [String(expB), a], max_results: 4, page_token: both.token });
    expect(next.ids).toEqual((await ids({ experimentIds: [a, String(expB)], max_results: 500 })).ids.slice(4, 8));
  });

  it('refuse a token whose trace key is malformed as an invalid parameter', async () => {
    for (const after of [['x', 'tr-01'], [1, 'tr-01'], ['200', ''], ['200'], 'tr-01']) {
      const token = Buffer.from(JSON.stringify({ offset: 2, after })).toString('base64');
      const err = await searchTraces(deps, { experimentIds: [String(expA)], page_token: token }).catch((e: unknown) => e);
      expect(err, JSON.stringify(after)).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('search_traces pages at a deep offset', () => {
  it('skip their rows by id and are the slices of the whole result', async () => {
    // 1,250 traces: past the offset (1,000) from which traceSearchQuery skips rows by id. Times
    // repeat every 400 traces (ties broken by trace_id), durations every 13, and a tag every 3.
    const exp = await experiment('tkeyset-deep');
    await rows(db.orm, sql`INSERT INTO traces (trace_id, experiment_id, request_time, execution_duration, state, artifact_location)
      SELECT 'deep-' || lpad(i::text, 4, '0'), ${exp}, (i * 7919) % 400, i % 13, CASE WHEN i % 10 = 0 THEN 'ERROR' ELSE 'OK' END, '/d/' || i
      FROM generate_series(1, 1250) i`);
    await rows(db.orm, sql`INSERT INTO trace_tags (trace_id, key, value)
      SELECT 'deep-' || lpad(i::text, 4, '0'), 'shade', (i % 3)::text FROM generate_series(1, 1250) i`);
    const e = String(exp);
    const inputs: Input[] = [
      { experimentIds: [e] },
      { experimentIds: [e], order_by: ['execution_time DESC'] },
      { experimentIds: [e], order_by: ['timestamp_ms ASC'] },
      { experimentIds: [e, String(expA)], filter: "trace.status = 'OK'" },
    ];
    for (const input of inputs) {
      const whole = await paged(input, 500);
      expect(whole.ids.length, JSON.stringify(input)).toBeGreaterThan(1020);
      for (const [offset, size] of [[1000, 7], [1003, 20], [999, 3], [whole.ids.length - 2, 5]]) {
        const text = await searchTracesJson(deps, { ...input, max_results: size, page_token: encodeOffsetToken(offset) });
        const page = (JSON.parse(text) as { traces: Array<{ trace_id: string }> }).traces.map((t) => JSON.stringify(t));
        expect(page, `${JSON.stringify(input)} at ${offset}`).toEqual(whole.json.slice(offset, offset + size));
      }
    }
  });
});
