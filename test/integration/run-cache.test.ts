import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { keepBodies } from '../../src/domain/run-cache.js';
import { loadRuns } from '../../src/domain/run-read.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { waitFor } from '../harness/wait.js';

// search_runs sends a run read before from its kept JSON (run_json, src/domain/run-cache.ts). Every
// kind of write must clear it (the triggers of migration 0030), the kept text must be exactly what
// the hydration writes, and a body read before a write must never be kept after it.

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('run-cache') })).body.experiment_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const ok = async (path: string, body: unknown) => {
  const res = await post(path, body);
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res.body;
};
const kept = async (runId: string) =>
  (await rows<{ body: string | null }>(t.deps.db, sql`select body from run_json where run_id = ${runId}`))[0]?.body;
const built = async (runId: string) => JSON.stringify((await loadRuns(t.deps.db, [runId]))[0]);
// A search keeps the bodies it built after answering (run-cache.ts): the body the hydration builds now.
const keptAsBuilt = async (runId: string, what = runId) => {
  const expected = await built(runId);
  return waitFor(`the kept body of ${what}`, async () => (await kept(runId)) === expected);
};
const search = async (extra: Record<string, unknown> = {}) => {
  const res = await post('runs/search', { experiment_ids: [experimentId], ...extra });
  expect(res.status).toBe(200);
  return res.text;
};
const runIn = (answer: string, runId: string) => (JSON.parse(answer).runs ?? []).find((r: { info: { run_id: string } }) => r.info.run_id === runId);

describe('kept run JSON', () => {
  it('is cleared by every kind of write, and rebuilt as the hydration builds it', async () => {
    const runId = (await ok('runs/create', { experiment_id: experimentId, start_time: 1000, tags: [{ key: 't0', value: 'v' }] })).run.info.run_id;
    const model = await ok('logged-models', { experiment_id: experimentId, name: 'm' });
    const modelId: string = model.model.info.model_id;
    const writes: Array<[string, () => Promise<unknown>, (run: any) => unknown]> = [
      ['log-parameter', () => ok('runs/log-parameter', { run_id: runId, key: 'p', value: '1' }), (r) => r.data.params],
      ['set-tag', () => ok('runs/set-tag', { run_id: runId, key: 't1', value: 'x' }), (r) => r.data.tags],
      ['set-tag again', () => ok('runs/set-tag', { run_id: runId, key: 't1', value: 'y' }), (r) => r.data.tags],
      ['delete-tag', () => ok('runs/delete-tag', { run_id: runId, key: 't0' }), (r) => r.data.tags],
      ['log-metric', () => ok('runs/log-metric', { run_id: runId, key: 'm', value: 0.5, timestamp: 5, step: 1 }), (r) => r.data.metrics],
      ['log-metric, a later step', () => ok('runs/log-metric', { run_id: runId, key: 'm', value: 0.25, timestamp: 6, step: 2 }), (r) => r.data.metrics],
      ['log-batch', () => ok('runs/log-batch', { run_id: runId, metrics: [{ key: 'n', value: 1, timestamp: 7, step: 0 }], params: [{ key: 'q', value: '2' }], tags: [{ key: 't2', value: 'z' }] }), (r) => r.data],
      ['update', () => ok('runs/update', { run_id: runId, status: 'FINISHED', end_time: 2000, run_name: 'renamed' }), (r) => r.info],
      ['log-inputs', () => ok('runs/log-inputs', { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: { name: 'd', digest: 'dg', source_type: 'local', source: '{}' } }], models: [{ model_id: modelId }] }), (r) => r.inputs],
      ['outputs', () => ok('runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 3 }] }), (r) => r.outputs],
    ];
    await search();
    await keptAsBuilt(runId);
    for (const [name, write, part] of writes) {
      const before = part(runIn(await search(), runId));
      await write();
      expect(await kept(runId), name).toBeNull();
      const answer = await search();
      expect(part(runIn(answer, runId)), name).not.toEqual(before);
      expect(JSON.stringify(runIn(answer, runId)), name).toBe(await built(runId));
      await keptAsBuilt(runId, name);
    }
    // Deleted and restored: the stage is part of the run's JSON.
    await ok('runs/delete', { run_id: runId });
    expect(await kept(runId)).toBeNull();
    expect(runIn(await search({ run_view_type: 'DELETED_ONLY' }), runId).info.lifecycle_stage).toBe('deleted');
    await ok('runs/restore', { run_id: runId });
    expect(runIn(await search(), runId).info.lifecycle_stage).toBe('active');
  });

  it('answers byte for byte as the answer built without it, page tokens included', async () => {
    const exp = (await ok('experiments/create', { name: uniqueName('run-cache-pages') })).experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = (await ok('runs/create', { experiment_id: exp, start_time: 100 + (i % 3), run_name: `r${i}` })).run.info.run_id;
      ids.push(id);
      await ok('runs/log-batch', { run_id: id, metrics: [{ key: 'm', value: i === 3 ? 'NaN' : i / 7, timestamp: 1, step: 0 }], params: [{ key: 'p', value: `"${i}"\\` }], tags: [{ key: 'ü', value: 'ж\n' }] });
    }
    const pages = async () => {
      const out: string[] = [];
      for (const order of [[], ['metrics.m DESC']]) {
        let token: string | undefined;
        do {
          const res = await post('runs/search', { experiment_ids: [exp], max_results: 3, order_by: order, page_token: token });
          out.push(res.text);
          token = res.body.next_page_token;
        } while (token);
      }
      return out;
    };
    const cold = await pages();
    for (const id of ids) await keptAsBuilt(id);
    const warm = await pages();
    expect(warm).toEqual(cold);
    // The same pages with nothing kept: built from the tables, as before run_json.
    await rows(t.deps.db, sql`update run_json set body = null`);
    expect(await pages()).toEqual(cold);
    expect(cold.length).toBe(6);
  });

  it('is not used past a page of 1,000 runs, which is built as one answer with the same runs', async () => {
    const exp = (await ok('experiments/create', { name: uniqueName('run-cache-large') })).experiment_id;
    await rows(t.deps.db, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri)
      SELECT md5(${exp} || '-' || i), ${exp}::bigint, 'r' || i, 'u', 'FINISHED', i % 7, '/a' FROM generate_series(1, 1003) i`);
    await rows(t.deps.db, sql`INSERT INTO params (run_id, key, value) SELECT md5(${exp} || '-' || i), 'p', i::text FROM generate_series(1, 1003) i`);
    const large = await post('runs/search', { experiment_ids: [exp], max_results: 1002 });
    // None of the large page's bodies is kept (nothing is scheduled, so nothing comes later).
    const ids: string[] = large.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id);
    expect(await rows(t.deps.db, sql`select 1 from run_json where run_id = any(${`{${ids.join(',')}}`}::text[]) and body is not null`)).toEqual([]);
    const first = await post('runs/search', { experiment_ids: [exp], max_results: 1000 });
    const second = await post('runs/search', { experiment_ids: [exp], max_results: 1000, page_token: first.body.next_page_token });
    expect(large.body.runs).toHaveLength(1002);
    expect(large.body.runs).toEqual([...first.body.runs, ...second.body.runs].slice(0, 1002));
    expect(JSON.parse(Buffer.from(large.body.next_page_token, 'base64').toString()).offset).toBe(1002);
    // A page of 1,000 keeps its bodies.
    await keptAsBuilt(first.body.runs[999].info.run_id);
  });

  it('is not kept from a snapshot that missed a later write', async () => {
    const runId = (await ok('runs/create', { experiment_id: experimentId, start_time: 3000 })).run.info.run_id;
    const [{ snap }] = await rows<{ snap: string }>(t.deps.db, sql`select pg_current_snapshot()::text as snap`);
    await ok('runs/log-parameter', { run_id: runId, key: 'late', value: '1' });
    await keepBodies(t.deps.db, [[runId, '{"stale":true}']], snap);
    expect(await kept(runId)).toBeNull();
    const [{ now }] = await rows<{ now: string }>(t.deps.db, sql`select pg_current_snapshot()::text as now`);
    await keepBodies(t.deps.db, [[runId, await built(runId)]], now);
    expect(await kept(runId)).toBe(await built(runId));
  });

  it('goes with its run', async () => {
    const runId = (await ok('runs/create', { experiment_id: experimentId, start_time: 4000 })).run.info.run_id;
    await ok('runs/log-parameter', { run_id: runId, key: 'p', value: '1' });
    await search();
    await keptAsBuilt(runId);
    await rows(t.deps.db, sql`delete from runs where run_id = ${runId}`);
    expect(await rows(t.deps.db, sql`select 1 from run_json where run_id = ${runId}`)).toEqual([]);
  });

  // Two connections: only a Postgres server has them (PGlite runs one statement at a time).
  if (process.env.TEST_DATABASE_URL) {
    it('is not kept, nor waited for, while a write to the run is in progress', async () => {
      const runId = (await ok('runs/create', { experiment_id: experimentId, start_time: 5000 })).run.info.run_id;
      // Kept by the same statement as runId would be: once it is, that statement has run.
      const other = (await ok('runs/create', { experiment_id: experimentId, start_time: 5001 })).run.info.run_id;
      const writer = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await writer.connect();
      try {
        await writer.query('begin');
        await writer.query(`insert into params (run_id, key, value) values ($1, 'pending', '1')`, [runId]);
        const during = runIn(await search(), runId);
        expect(during.data.params).toBeUndefined();
        await keptAsBuilt(other);
        expect(await kept(runId)).toBeNull();
        await writer.query('commit');
      } finally {
        await writer.end();
      }
      expect(runIn(await search(), runId).data.params).toEqual([{ key: 'pending', value: '1' }]);
      await keptAsBuilt(runId);
    });
  }
});
