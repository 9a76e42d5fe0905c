import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('logging') })).body.experiment_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);
const newRunId = async () => (await post('runs/create', { experiment_id: experimentId, start_time: 1 })).body.run.info.run_id as string;
const runData = async (id: string) => (await get('runs/get', { run_id: id })).body.run.data;
const history = async (id: string, key: string) => (await get('metrics/get-history', { run_id: id, metric_key: key })).body.metrics;

describe('metrics, params and tags', () => {
  it('logs metrics and keeps the latest by (step, timestamp, value)', async () => {
    const id = await newRunId();
    await post('runs/log-metric', { run_id: id, run_uuid: id, key: 'loss', value: 0.9, timestamp: 10, step: 5 });
    await post('runs/log-metric', { run_id: id, key: 'loss', value: 0.1, timestamp: 99, step: 4 });
    await post('runs/log-metric', { run_id: id, key: 'loss', value: 0.7, timestamp: 10, step: 5 });
    expect((await runData(id)).metrics).toEqual([{ key: 'loss', value: 0.9, timestamp: 10, step: 5 }]);
    expect(await history(id, 'loss')).toHaveLength(3);
  });

  it('round-trips NaN and ±Infinity, as strings and as bare JSON tokens', async () => {
    const id = await newRunId();
    await post('runs/log-batch', {
      run_id: id,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
        { key: 'ninf', value: '-Infinity', timestamp: 1, step: 0 },
      ],
    });
    const bare = await t.api
      .post('/api/2.0/mlflow/runs/log-metric')
      .set('Content-Type', 'application/json')
      .send(`{"run_id": "${id}", "key": "bare", "value": NaN, "timestamp": 2}`);
    expect(bare.status).toBe(200);
    const metrics = Object.fromEntries((await runData(id)).metrics.map((m: { key: string; value: unknown }) => [m.key, m.value]));
    expect(metrics).toEqual({ bare: 'NaN', inf: 'Infinity', nan: 'NaN', ninf: '-Infinity' });
    expect((await history(id, 'ninf'))[0].value).toBe('-Infinity');
  });

  it('is idempotent: a replayed log-batch changes nothing', async () => {
    const id = await newRunId();
    const batch = {
      run_id: id,
      metrics: [{ key: 'm', value: 1, timestamp: 1, step: 1 }, { key: 'm', value: 2, timestamp: 2, step: 2 }],
      params: [{ key: 'p', value: 'v' }],
      tags: [{ key: 't', value: 'x' }],
    };
    expect((await post('runs/log-batch', batch)).status).toBe(200);
    expect((await post('runs/log-batch', batch)).status).toBe(200);
    expect(await history(id, 'm')).toEqual([
      { key: 'm', value: 1, timestamp: 1, step: 1 },
      { key: 'm', value: 2, timestamp: 2, step: 2 },
    ]);
    const data = await runData(id);
    expect(data.params).toEqual([{ key: 'p', value: 'v' }]);
  });

  it('keeps params immutable: same value is a no-op, another is refused and nothing of the batch lands', async () => {
    const id = await newRunId();
    await post('runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' });
    expect((await post('runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' })).status).toBe(200);
    const res = await post('runs/log-batch', { run_id: id, params: [{ key: 'lr', value: '0.2' }], metrics: [{ key: 'x', value: 1, timestamp: 1 }] });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('Changing param values is not allowed');
    const data = await runData(id);
    expect(data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect(data.metrics).toBeUndefined();
  });

  it('enforces the batch limits and accepts batches exactly at them', async () => {
    const id = await newRunId();
    const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: 1, step: i }));
    const kvs = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: 'v' }));
    expect((await post('runs/log-batch', { run_id: id, metrics: metrics(1000) })).status).toBe(200);
    expect((await post('runs/log-batch', { run_id: id, params: kvs(100, 'p'), tags: kvs(100, 't') })).status).toBe(200);
    for (const body of [{ metrics: metrics(1001) }, { params: kvs(101, 'q') }, { tags: kvs(101, 'u') }, { metrics: metrics(900), params: kvs(100, 'r'), tags: kvs(1, 's') }]) {
      const res = await post('runs/log-batch', { run_id: id, ...body });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('A batch logging request can contain at most');
    }
    expect((await runData(id)).params).toHaveLength(100);
  });

  it('truncates long param and tag values like MLflow, and validates keys', async () => {
    const id = await newRunId();
    await post('runs/log-batch', { run_id: id, params: [{ key: 'long', value: 'x'.repeat(7000) }], tags: [{ key: 'tag', value: 'y'.repeat(9000) }] });
    const data = await runData(id);
    expect(data.params[0].value).toHaveLength(6000);
    expect(data.tags.find((t: { key: string }) => t.key === 'tag').value).toHaveLength(8000);
    for (const key of ['../escape', '/abs', 'a//b', 'bad*char', 'k'.repeat(251)]) {
      const res = await post('runs/set-tag', { run_id: id, key, value: 'v' });
      expect(res.status, key).toBe(400);
    }
  });

  it('sets tags (mlflow.runName renames) and deletes them', async () => {
    const id = await newRunId();
    await post('runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed' });
    expect((await get('runs/get', { run_id: id })).body.run.info.run_name).toBe('renamed');
    await post('runs/set-tag', { run_id: id, key: 'k', value: 'v' });
    expect((await post('runs/delete-tag', { run_id: id, key: 'k' })).status).toBe(200);
    const missing = await post('runs/delete-tag', { run_id: id, key: 'k' });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('metric history', () => {
  it('pages with a keyset cursor and streams the whole history when unpaged', async () => {
    const id = await newRunId();
    for (let b = 0; b < 3; b++) {
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'h', value: b * 1000 + i, timestamp: 7, step: b * 1000 + i }));
      await post('runs/log-batch', { run_id: id, metrics });
    }
    const steps: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await get('metrics/get-history', { run_id: id, metric_key: 'h', max_results: 700, ...(token ? { page_token: token } : {}) });
      steps.push(...res.body.metrics.map((m: { step: number }) => m.step));
      token = res.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(5);
    expect(steps).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    const whole = await history(id, 'h');
    expect(whole).toHaveLength(3000);
    expect(whole[2999]).toEqual({ key: 'h', value: 2999, timestamp: 7, step: 2999 });
    expect((await get('metrics/get-history', { run_id: 'a'.repeat(32), metric_key: 'h' })).status).toBe(404);
  });

  it('samples steps evenly across runs for get-history-bulk-interval', async () => {
    const a = await newRunId();
    const b = await newRunId();
    for (const id of [a, b]) {
      await post('runs/log-batch', { run_id: id, metrics: Array.from({ length: 100 }, (_, i) => ({ key: 'c', value: i, timestamp: 1, step: i })) });
    }
    const res = await t.api.get('/api/2.0/mlflow/metrics/get-history-bulk-interval').query(`run_ids=${a}&run_ids=${b}&metric_key=c&max_results=10`);
    expect(res.status).toBe(200);
    const forA = res.body.metrics.filter((m: { run_id: string }) => m.run_id === a);
    expect(forA).toHaveLength(10);
    expect(forA[0].step).toBe(0);
    expect(forA[9].step).toBe(99);
    const ranged = await t.api.get('/api/2.0/mlflow/metrics/get-history-bulk-interval').query(`run_ids=${a}&metric_key=c&start_step=10&end_step=19`);
    expect(ranged.body.metrics.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
  });
});

describe('server endpoints', () => {
  it('answers /health, /version and server-info', async () => {
    expect((await t.api.get('/health')).text).toBe('OK');
    expect((await t.api.get('/version')).text).toMatch(/^\d+\.\d+\.\d+$/);
    const info = (await t.api.get('/api/3.0/mlflow/server-info')).body;
    expect(info).toMatchObject({ store_type: 'SqlStore', workspaces_enabled: false, artifact_serving_enabled: true });
    // Capabilities Cairn lacks are reported off, so the client never tries them.
    expect(info).toMatchObject({ presigned_upload_run_id_supported: false, features_enabled: { gateway: false } });
  });

  it('answers unimplemented families with 501 NOT_IMPLEMENTED', async () => {
    for (const path of ['/api/2.0/mlflow/webhooks', '/api/3.0/mlflow/label-schemas/create', '/api/2.0/mlflow/artifacts/presigned-upload-url']) {
      const res = await t.api.post(path).send({});
      expect(res.status, path).toBe(501);
      expect(res.body.error_code).toBe('NOT_IMPLEMENTED');
    }
    // Paths under a family Cairn serves that MLflow does not have are a 404, as from `mlflow server`.
    for (const path of ['/api/3.0/mlflow/traces/tr-0/info', '/api/3.0/mlflow/scorers/invoke', '/api/3.0/mlflow/datasets/d-1/nothing']) {
      const res = await t.api.get(path);
      expect([res.status, res.body.error_code], path).toEqual([404, 'ENDPOINT_NOT_FOUND']);
    }
    // A method MLflow's API does not use there is a client error, not a missing endpoint (the fuzzer
    // sends PUT and TRACE).
    for (const res of [
      await t.api.put('/api/3.0/mlflow/traces/tr-0/assessments').send({}),
      await t.api.options('/api/3.0/mlflow/traces/tr-0'),
      await t.api.put('/api/2.0/mlflow/traces/tr-0/tags').send({}),
      await t.api.post('/api/3.0/mlflow/traces/tr-0/tags').send({}),
    ]) {
      expect(res.status).toBe(405);
      expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
    }
    expect((await t.api.put('/api/2.0/mlflow/webhooks/w-0').send({})).status).toBe(405);
    // Outside those families too: a path with parameters that another method serves is a 405, not a 404.
    expect((await t.api.put('/api/wandb/runs/e/p/r/history').send({})).status).toBe(405);
  });
});
