import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { insertExperiment } from '../harness/database.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { waitFor } from '../harness/wait.js';

// A search page of more than 1,000 runs (MLflow allows 50,000) is read 1,000 runs at a time and
// streamed piece by piece (run-cache.ts, http/json-pieces.ts), so the server never holds every
// run's objects or the whole answer twice. Its answer must be exactly the runs that pages of 1,000
// give, whether their bodies were kept by an earlier read or are built now.

const RUNS = 2_500;
let app: TestApp;
let exp: number;

beforeAll(async () => {
  app = await startTestApp();
  const orm = app.deps.db;
  exp = await insertExperiment(orm, uniqueName('large-page'));
  // Several params, tags and metrics a run, so that the answer passes 1 MiB and is streamed.
  await rows(orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri)
    SELECT 'lp' || ${exp} || '-' || lpad(i::text, 5, '0'), ${exp}, 'run-' || i, 'u', 'FINISHED', 1000000 + i % 700, '/a/' || i
    FROM generate_series(1, ${RUNS}) i`);
  const ids = sql`(SELECT run_id FROM runs WHERE experiment_id = ${exp})`;
  await rows(orm, sql`INSERT INTO params (run_id, key, value) SELECT r.run_id, 'p' || k, 'value-' || k || '-' || r.run_id FROM ${ids} r, generate_series(1, 4) k`);
  await rows(orm, sql`INSERT INTO run_tags (run_id, key, value) SELECT r.run_id, 'tag' || k, 'text ' || k FROM ${ids} r, generate_series(1, 3) k`);
  await rows(orm, sql`INSERT INTO latest_metrics (run_id, key, value, timestamp, step)
    SELECT r.run_id, 'm' || k, k * 0.5, 7, 1 FROM ${ids} r, generate_series(1, 3) k`);
});

afterAll(async () => {
  await app?.close();
});

async function search(body: Record<string, unknown>) {
  const res = await app.api.post('/api/2.0/mlflow/runs/search').send({ experiment_ids: [String(exp)], ...body });
  expect(res.status).toBe(200);
  return res;
}

async function pagesOf1000(order_by?: string[]): Promise<unknown[]> {
  const runs: unknown[] = [];
  let page_token: string | undefined;
  do {
    const res = await search({ max_results: 1000, order_by, page_token });
    runs.push(...(res.body.runs ?? []));
    page_token = res.body.next_page_token;
  } while (page_token);
  return runs;
}

const keptBodies = async () =>
  (await rows<{ n: number }>(app.deps.db, sql`SELECT count(*)::int AS n FROM run_json j JOIN runs r USING (run_id) WHERE r.experiment_id = ${exp} AND j.body IS NOT NULL`))[0].n;

describe('a search page of more than 1,000 runs', () => {
  it('streams the same runs, in the same order, as pages of 1,000, built or kept', async () => {
    const built = await search({ max_results: RUNS });
    // Streamed: no Content-Length, and no body kept by a page this large.
    expect(built.headers['transfer-encoding']).toBe('chunked');
    expect(built.headers['content-length']).toBeUndefined();
    expect(built.text.length).toBeGreaterThan(1 << 20);
    expect(await keptBodies()).toBe(0);
    expect(built.body.next_page_token).toBeUndefined();
    expect(built.body.runs).toHaveLength(RUNS);

    const paged = await pagesOf1000();
    // Pages of 1,000 keep their bodies after answering.
    await waitFor('every body kept', async () => (await keptBodies()) === RUNS);
    expect(built.body.runs).toEqual(paged);
    const run = built.body.runs[0];
    expect(run.data.params).toHaveLength(4);
    expect(run.data.tags).toHaveLength(3);
    expect(run.data.metrics).toHaveLength(3);

    // Every body kept now: read from run_json, the same text.
    const kept = await search({ max_results: RUNS });
    expect(kept.text).toBe(built.text);
  });

  it('ends with a page token when more runs follow, in another order too', async () => {
    const first = await search({ max_results: 1_500, order_by: ['attributes.run_name DESC'] });
    expect(first.body.runs).toHaveLength(1_500);
    const rest = await search({ max_results: 1_500, order_by: ['attributes.run_name DESC'], page_token: first.body.next_page_token });
    expect(rest.body.runs).toHaveLength(RUNS - 1_500);
    expect(rest.body.next_page_token).toBeUndefined();
    expect([...first.body.runs, ...rest.body.runs]).toEqual(await pagesOf1000(['attributes.run_name DESC']));
  });
});
