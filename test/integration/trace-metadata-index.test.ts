import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { traceSearchQuery } from '../../src/domain/search/traces-sql.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { staleTraceText } from '../harness/trace-text.js';

// `=` and `IN` on the user and session metadata keys read the trace row's metadata text, through the
// partial indexes of migrations/0037, instead of joining trace_metadata. They must find exactly the
// traces the join finds (here: the same filter spelled `LIKE` without a wildcard, which still joins),
// through long values, a changed value, several experiments, and other values that quote the key.

let t: TestApp;
let exp: string;
let other: string;
const USER = 'mlflow.trace.user';
const SESSION = 'mlflow.trace.session';
const long = (tail: string) => `${'u'.repeat(210)}${tail}`;
const location = (id: string) => ({ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: id } });
let n = 0;
const written: string[] = [];

async function start(experiment: string, second: number, metadata: Record<string, string>, id = `tr-${(++n).toString(16).padStart(8, '0')}${Date.now().toString(16).padStart(24, '0')}`) {
  const res = await t.api.post('/api/3.0/mlflow/traces').send({
    trace: { trace_info: { trace_id: id, trace_location: location(experiment), request_time: new Date(Date.UTC(2026, 2, 1, 10, 0, second)).toISOString(), state: 'OK', trace_metadata: metadata, tags: {} } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  written.push(id);
  return id;
}

async function search(filter: string, experiments = [exp], max_results = 100): Promise<string[]> {
  const ids: string[] = [];
  let page_token: string | undefined;
  do {
    const res = await t.api.post('/api/3.0/mlflow/traces/search').send({ locations: experiments.map(location), filter, max_results, page_token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    ids.push(...(res.body.traces ?? []).map((x: { trace_id: string }) => x.trace_id));
    page_token = res.body.next_page_token;
  } while (page_token);
  return ids;
}

beforeAll(async () => {
  t = await startTestApp();
  const create = async (name: string) => (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName(name) })).body.experiment_id as string;
  exp = await create('meta-index');
  other = await create('meta-index-other');
  const users = ['alice', 'bob', 'alice', long('a'), long('b'), 'carol', 'alice'];
  for (const [i, user] of users.entries()) await start(exp, i, { [USER]: user, [SESSION]: `s-${i % 3}`, 'mlflow.trace_schema.version': '3' });
  await start(exp, 30, { 'mlflow.trace_schema.version': '3' }); // no user
  await start(other, 5, { [USER]: 'alice' });
  // Another value holding the key's text: only a real key counts.
  await start(exp, 40, { [USER]: 'dave', note: 'he wrote "mlflow.trace.user":"alice"' });
  await start(exp, 41, { note: '{"mlflow.trace.user":"alice"}' });
});

afterAll(() => t?.close());

describe('user and session metadata filters', () => {
  it('find the traces the key-value join finds, newest first, page by page', async () => {
    const joined = async (key: string, values: string[]) => (await Promise.all(values.map((v) => search(`metadata.\`${key}\` LIKE '${v}'`)))).flat();
    const cases: [string, string, string[]][] = [
      [`metadata.\`${USER}\` = 'alice'`, USER, ['alice']],
      [`metadata.\`${USER}\` = '${long('a')}'`, USER, [long('a')]],
      [`metadata.\`${USER}\` IN ('bob', 'carol', '${long('b')}')`, USER, ['bob', 'carol', long('b')]],
      [`metadata.\`${SESSION}\` = 's-1'`, SESSION, ['s-1']],
      [`metadata.\`${USER}\` = 'dave'`, USER, ['dave']],
      [`metadata.\`${USER}\` = 'nobody'`, USER, ['nobody']],
    ];
    for (const [filter, key, values] of cases) {
      // Two a page, so that paging through the indexed order is covered too.
      const found = await search(filter, [exp], 2);
      const expected = await joined(key, values);
      expect(found.length, filter).toBe(expected.length);
      expect([...found].sort(), filter).toEqual([...expected].sort());
      if (values.length === 1) expect(found, filter).toEqual(expected);
    }
    expect(await search(`metadata.\`${USER}\` = 'alice'`)).toHaveLength(3);
    expect(await search(`metadata.\`${USER}\` = '${long('a')}'`)).toHaveLength(1);
    expect(await search(`metadata.\`${USER}\` = 'alice'`, [exp, other])).toHaveLength(4);
    expect(await search(`metadata.\`${USER}\` = 'dave'`)).toHaveLength(1);
    expect(await staleTraceText(t.deps.db, written)).toEqual([]);
  });

  it('follow a trace whose user changes when its export is retried', async () => {
    const id = await start(exp, 50, { [USER]: 'erin' });
    expect(await search(`metadata.\`${USER}\` = 'erin'`)).toEqual([id]);
    await start(exp, 50, { [USER]: 'frank' }, id);
    expect(await search(`metadata.\`${USER}\` = 'erin'`)).toEqual([]);
    expect(await search(`metadata.\`${USER}\` = 'frank'`)).toEqual([id]);
  });

  it('are read through the partial indexes', async () => {
    const plan = async (filter: string) => {
      const query = traceSearchQuery({ experimentIds: [Number(exp)], filter, offset: 0, limit: 100 });
      // Scans off, so that the plan shows whether the index can serve the filter at all.
      return t.deps.db.transaction(async (tx) => {
        await rows(tx, sql`SET LOCAL enable_seqscan = off`);
        await rows(tx, sql`SET LOCAL enable_bitmapscan = off`);
        const lines = await rows<{ 'QUERY PLAN': string }>(tx, sql`EXPLAIN ${query}`);
        return lines.map((l) => l['QUERY PLAN']).join('\n');
      });
    };
    expect(await plan(`metadata.\`${USER}\` = 'alice'`)).toContain('traces_experiment_user_idx');
    expect(await plan(`metadata.\`${SESSION}\` = 's-1'`)).toContain('traces_experiment_session_idx');
    expect(await plan(`metadata.\`${USER}\` = '${long('a')}'`)).toContain('traces_experiment_user_idx');
  });
});
