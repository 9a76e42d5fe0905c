import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Issue 12: what MLflow's UI and mlflow-export-import rely on (the differential runner in
// test/compat checks the same against the real mlflow server; these run without Python).

function getWithBody(t: TestApp, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const { port } = t.server.address() as AddressInfo;
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (out += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: out }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('MLflow UI support', () => {
  let t: TestApp;
  let expId: string;
  let runId: string;
  beforeAll(async () => {
    t = await startTestApp();
    expId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('ui') })).body.experiment_id;
    runId = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: expId, run_name: 'r' })).body.run.info.run_id;
    await t.api.post('/api/2.0/mlflow/runs/log-batch').send({
      run_id: runId,
      metrics: [0, 1, 2].map((s) => ({ key: 'm', value: s * 2, timestamp: 1000 + s, step: s })),
    });
  });
  afterAll(() => t.close());

  it('reads a GET call from its JSON body when there is no query string (mlflow-export-import)', async () => {
    const name = uniqueName('rm');
    await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name });
    const res = await getWithBody(t, '/api/2.0/mlflow/registered-models/get', { name });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).registered_model.name).toBe(name);
    // A query string wins over a body, as in MLflow.
    const both = await getWithBody(t, `/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(name)}`, { name: 'other' });
    expect(both.status).toBe(200);
  });

  it("serves MLflow's GraphQL schema on /graphql without credentials, and never a Basic challenge", async () => {
    const res = await t.api.post('/graphql').send({
      query: `query q($id: String) { mlflowGetRun(input: {runId: $id}) { run { info { runId status endTime } data { metrics { key value step } } experiment { experimentId } modelVersions { name } } } }`,
      variables: { id: runId },
    });
    expect(res.status).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body.errors).toBeNull();
    const run = res.body.data.mlflowGetRun.run;
    expect(run.info).toEqual({ runId, status: 'RUNNING', endTime: '0' });
    expect(run.data.metrics).toEqual([{ key: 'm', value: 4, step: '2' }]);
    expect(run.experiment.experimentId).toBe(expId);
    expect(run.modelVersions).toEqual([]);

    const missing = await t.api.post('/graphql').send({ query: '{ mlflowGetRun(input: {runId: "0123456789abcdef0123456789abcdef"}) { run { info { runId } } } }' });
    expect(missing.body).toEqual({ data: { mlflowGetRun: null }, errors: ['Run with id=0123456789abcdef0123456789abcdef not found'] });

    // A W&B document without a key: 401, but no challenge a browser would turn into a login box.
    const wandb = await t.api.post('/graphql').send({ query: '{ viewer { id } }' });
    expect(wandb.status).toBe(401);
    expect(wandb.headers['www-authenticate']).toBeUndefined();
    // With W&B credentials that are wrong, the client is challenged as before.
    const wrongKey = await t.api.post('/graphql').set('Authorization', `Basic ${Buffer.from('api:nope').toString('base64')}`).send({ query: '{ viewer { id } }' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it("bounds MLflow GraphQL documents as MLflow does", async () => {
    const query = `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: test(inputString: "x") { output }`).join(' ')} }`;
    const res = await t.api.post('/graphql').send({ query });
    expect(res.body.data).toBeNull();
    expect(res.body.errors[0]).toMatch(/at most 10 root fields, got 11 root fields/);
  });

  it('downloads run artifacts from /get-artifact with MLflow headers', async () => {
    await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts/dir/notes.txt`).send('hello');
    const res = await t.api.get('/get-artifact').query({ run_id: runId, path: 'dir/notes.txt' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('hello');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['content-disposition']).toBe('attachment; filename=notes.txt');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect((await t.api.get('/get-artifact').query({ run_id: runId, path: '../x' })).status).toBe(400);
    expect((await t.api.get('/get-artifact').query({ run_id: runId, path: 'dir/none.txt' })).status).toBe(404);

    // A version registered from the run's folder serves the same file by registry coordinates.
    const name = uniqueName('mv-art');
    await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name });
    expect((await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name, source: `runs:/${runId}/dir`, run_id: runId })).status).toBe(200);
    const mv = await t.api.get('/model-versions/get-artifact').query({ name, version: '1', path: 'notes.txt' });
    expect(mv.status).toBe(200);
    expect(mv.text).toBe('hello');
    expect(mv.headers['content-disposition']).toBe('attachment; filename=notes.txt');
    // Cairn presigns nothing (server-info says so): asked anyway, it answers as the real server on a store that cannot sign.
    const presigned = await t.api.get('/model-versions/get-artifact').query({ name, version: '1', path: 'notes.txt', presigned: 'true' });
    expect(presigned.status).toBe(501);
    expect(presigned.body).toMatchObject({ error_code: 'NOT_IMPLEMENTED', message: 'Presigned download is not supported for the current artifact repository' });
    // A version that does not exist is a 404 first, as on the real server, never the 501.
    const missing = await t.api.get('/model-versions/get-artifact').query({ name, version: '99', path: 'notes.txt', presigned: 'true' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('answers the bulk history, dataset summaries and empty-store endpoints the UI calls', async () => {
    const bulk = await t.api.get('/ajax-api/2.0/mlflow/metrics/get-history-bulk').query({ run_id: runId, metric_key: 'm' });
    expect(bulk.body.metrics.map((m: { step: number; run_id: string }) => [m.step, m.run_id])).toEqual([[0, runId], [1, runId], [2, runId]]);
    const ds = await t.api.post('/ajax-api/2.0/mlflow/experiments/search-datasets').send({ experiment_ids: [expId] });
    expect(ds.status).toBe(200);
    expect(ds.body).toEqual({});
    expect((await t.api.post('/ajax-api/2.0/mlflow/experiments/search-datasets').send({ experiment_ids: [] })).status).toBe(400);
    expect((await t.api.get('/ajax-api/3.0/mlflow/scorers/list').query({ experiment_id: expId })).body).toEqual({});
    expect((await t.api.post('/ajax-api/3.0/mlflow/issues/search').send({ experiment_id: expId })).body).toEqual({ next_page_token: '' });
    expect((await t.api.get('/ajax-api/3.0/mlflow/ui-telemetry')).body.disable_ui_telemetry).toBe(true);
    const count = await t.api.post('/ajax-api/3.0/mlflow/traces/metrics').send({ experiment_ids: [expId], metric_name: 'trace_count', aggregations: [{ aggregation_type: 'COUNT' }] });
    expect(count.body).toEqual({ data_points: [{ metric_name: 'trace_count', values: { COUNT: 0 } }] });
  });

  it('classifies errors as MLflow 3.18 does (sqlstate, error_class)', async () => {
    const res = await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '987654321' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST', sqlstate: 'KAM00', error_class: 'RESOURCE_NOT_FOUND' });
  });
});
