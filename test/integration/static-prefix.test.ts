import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// `--static-prefix /mlflow`, as mlflow server: the API, probes and artifacts answer under the
// prefix, and nothing answers outside it.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(['--static-prefix', '/mlflow']);
});
afterAll(async () => {
  await t?.close();
});

describe('--static-prefix', () => {
  it('serves the API and the probes under the prefix', async () => {
    expect((await t.api.get('/mlflow/health')).text).toBe('OK');
    const name = uniqueName('prefix');
    const created = await t.api.post('/mlflow/api/2.0/mlflow/experiments/create').send({ name });
    expect(created.status).toBe(200);
    const got = await t.api.get(`/mlflow/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`);
    expect(got.body.experiment.experiment_id).toBe(created.body.experiment_id);
  });

  it('answers 404 ENDPOINT_NOT_FOUND outside the prefix, including a path that only starts like it', async () => {
    for (const p of ['/health', '/api/2.0/mlflow/experiments/search', '/mlflowx/health']) {
      const res = await t.api.get(p);
      expect(res.status, p).toBe(404);
      expect(res.body.error_code).toBe('ENDPOINT_NOT_FOUND');
    }
  });

  it('moves a page request for the bare prefix to prefix/, so the UI\'s relative URLs stay under it', async () => {
    const res = await t.api.get('/mlflow');
    expect([res.status, res.headers.location]).toEqual([308, '/mlflow/']);
    expect((await t.api.post('/mlflow').send({})).status).not.toBe(308);
  });

  it('stores and serves artifacts through the prefixed proxy', async () => {
    const put = await t.api.put('/mlflow/api/2.0/mlflow-artifacts/artifacts/0/prefix-test/a.txt').send('hello');
    expect(put.status).toBe(200);
    const get = await t.api.get('/mlflow/api/2.0/mlflow-artifacts/artifacts/0/prefix-test/a.txt').buffer(true).parse((res, cb) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => cb(null, data));
    });
    expect(get.status).toBe(200);
    expect(get.body).toBe('hello');
  });
});
