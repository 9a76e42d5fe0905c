import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// MLflow 3 logged models: the log_model chain, metrics linked by model_id, search, artifacts listing.

let t: TestApp;
let experimentId: string;
let runId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = await newExperiment();
  runId = (await post('runs/create', { experiment_id: experimentId })).body.run.info.run_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const patch = (path: string, body: unknown) => t.api.patch(`/api/2.0/mlflow/${path}`).send(body as object);
const del = (path: string, body: unknown = {}) => t.api.delete(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown> = {}) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);

async function newExperiment(): Promise<string> {
  return (await post('experiments/create', { name: uniqueName('logged-models') })).body.experiment_id;
}
const create = async (body: Record<string, unknown> = {}) => {
  const res = await post('logged-models', { experiment_id: experimentId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.model;
};
const search = async (body: Record<string, unknown>) => {
  const res = await post('logged-models/search', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const ids = (body: { models?: { info: { model_id: string } }[] }) => (body.models ?? []).map((m) => m.info.model_id);

describe('logged models', () => {
  it('creates a PENDING model with an m- id under the experiment artifact location', async () => {
    const model = await create({
      name: 'model',
      model_type: 'sklearn',
      source_run_id: runId,
      params: [{ key: 'alpha', value: '0.5' }],
      tags: [{ key: 'mlflow.user', value: 'alice' }],
    });
    expect(model.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model.info).toMatchObject({
      experiment_id: experimentId,
      name: 'model',
      model_type: 'sklearn',
      source_run_id: runId,
      status: 'LOGGED_MODEL_PENDING',
      artifact_uri: `mlflow-artifacts:/${experimentId}/models/${model.info.model_id}/artifacts`,
      tags: [{ key: 'mlflow.user', value: 'alice' }],
    });
    expect(model.info.creation_timestamp_ms).toBeGreaterThan(0);
    expect(model.data).toEqual({ params: [{ key: 'alpha', value: '0.5' }] });
    expect((await get(`logged-models/${model.info.model_id}`)).body.model).toEqual(model);
    expect((await t.api.get(`/ajax-api/2.0/mlflow/logged-models/${model.info.model_id}`)).body.model.info.model_id).toBe(model.info.model_id);
  });

  it('generates a name when none is given and refuses bad names and experiments', async () => {
    expect((await create()).info.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    for (const name of ['a/b', 'a.b', 'a:b', "it's", '50%']) {
      const res = await post('logged-models', { experiment_id: experimentId, name });
      expect(res.status, name).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await post('logged-models', {})).status).toBe(400);
    expect((await post('logged-models', { experiment_id: '987654321' })).status).toBe(404);
    const gone = await newExperiment();
    await post('experiments/delete', { experiment_id: gone });
    expect((await post('logged-models', { experiment_id: gone })).status).toBe(400);
  });

  it('finalizes with a status name or number', async () => {
    const model = await create();
    const id = model.info.model_id;
    const res = await patch(`logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(res.status).toBe(200);
    expect(res.body.model.info.status).toBe('LOGGED_MODEL_READY');
    expect((await patch(`logged-models/${id}`, { status: 3 })).body.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    for (const status of ['DONE', 'constructor', 'toString', 7]) expect((await patch(`logged-models/${id}`, { status })).status, String(status)).toBe(400);
    expect((await patch(`logged-models/${id}`, {})).status).toBe(400);
    expect((await patch(`logged-models/m-${'0'.repeat(32)}`, { status: 'LOGGED_MODEL_READY' })).status).toBe(404);
  });

  it('deletes softly: hidden from get and search, visible with allow_deleted', async () => {
    const model = await create({ name: 'doomed' });
    const id = model.info.model_id;
    expect((await del(`logged-models/${id}`)).status).toBe(200);
    const missing = await get(`logged-models/${id}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await get(`logged-models/${id}`, { allow_deleted: 'true' })).body.model.info.model_id).toBe(id);
    expect(ids(await search({ experiment_ids: [experimentId], filter: "name = 'doomed'" }))).toEqual([]);
    expect((await del(`logged-models/m-${'1'.repeat(32)}`)).status).toBe(404);
  });

  it('sets and deletes tags (the key from the path, slashes and dots included)', async () => {
    const id = (await create()).info.model_id;
    expect((await patch(`logged-models/${id}/tags`, { tags: [{ key: 'a', value: '1' }, { key: 'mlflow.model.isExternal', value: 'true' }, { key: 'a', value: '2' }] })).status).toBe(200);
    expect((await patch(`logged-models/${id}/tags`, { tags: [{ key: 'dir/key', value: 'x' }] })).status).toBe(200);
    expect((await get(`logged-models/${id}`)).body.model.info.tags).toEqual([
      { key: 'a', value: '2' },
      { key: 'dir/key', value: 'x' },
      { key: 'mlflow.model.isExternal', value: 'true' },
    ]);
    expect((await del(`logged-models/${id}/tags/mlflow.model.isExternal`)).status).toBe(200);
    expect((await del(`logged-models/${id}/tags/dir/key`)).status).toBe(200);
    const missing = await del(`logged-models/${id}/tags/mlflow.model.isExternal`);
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await get(`logged-models/${id}`)).body.model.info.tags).toEqual([{ key: 'a', value: '2' }]);
    expect((await patch(`logged-models/m-${'2'.repeat(32)}/tags`, { tags: [] })).status).toBe(404);
  });

  it('logs params in batches; a changed value is refused', async () => {
    const id = (await create({ params: [{ key: 'p0', value: 'v0' }] })).info.model_id;
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: `v${i}` }));
    expect((await post(`logged-models/${id}/params`, { model_id: id, params: params.slice(0, 100) })).status).toBe(200);
    expect((await post(`logged-models/${id}/params`, { model_id: id, params: params.slice(100) })).status).toBe(200);
    expect((await get(`logged-models/${id}`)).body.model.data.params).toHaveLength(150);
    const changed = await post(`logged-models/${id}/params`, { model_id: id, params: [{ key: 'p1', value: 'other' }] });
    expect(changed.status).toBe(400);
    expect(changed.body.message).toContain('Changing param values is not allowed');
  });

  it('answers 405 for a wrong method on a logged-model path', async () => {
    const id = (await create()).info.model_id;
    expect((await t.api.put(`/api/2.0/mlflow/logged-models/${id}`).send({})).status).toBe(405);
    expect((await t.api.get(`/api/2.0/mlflow/logged-models/${id}/params`)).status).toBe(405);
  });
});

describe('the log_model chain', () => {
  it('links the run output, the metrics logged with the model id, and finalizes', async () => {
    const run = (await post('runs/create', { experiment_id: experimentId })).body.run.info.run_id;
    await post('runs/log-batch', {
      run_id: run,
      metrics: [
        { key: 'acc', value: 0.5, timestamp: 1, step: 0 },
        { key: 'acc', value: 0.9, timestamp: 2, step: 1 },
        { key: 'loss', value: 'NaN', timestamp: 2, step: 1 },
      ],
    });
    const model = await create({ name: 'model', source_run_id: run });
    const id = model.info.model_id;
    expect((await post('runs/outputs', { run_id: run, models: [{ model_id: id, step: 1 }] })).status).toBe(200);
    // log_model re-logs the step's existing points with the model id (twice: retries must be harmless).
    for (let i = 0; i < 2; i++) {
      const relog = await post('runs/log-batch', {
        run_id: run,
        metrics: [
          { key: 'acc', value: 0.9, timestamp: 2, step: 1, model_id: id },
          { key: 'loss', value: 'NaN', timestamp: 2, step: 1, model_id: id },
          { key: 'loss', value: 'NaN', timestamp: 2, step: 1, model_id: id },
        ],
      });
      expect(relog.status, JSON.stringify(relog.body)).toBe(200);
    }
    // A metric logged directly for the model, on a dataset.
    await post('runs/log-metric', { run_id: run, key: 'f1', value: 0.7, timestamp: 3, step: 0, model_id: id, dataset_name: 'eval', dataset_digest: 'abc' });
    const finalized = await patch(`logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(finalized.body.model.info.status).toBe('LOGGED_MODEL_READY');

    const got = (await get(`logged-models/${id}`)).body.model;
    expect(got.data.metrics).toEqual([
      { key: 'acc', value: 0.9, timestamp: 2, step: 1, run_id: run, model_id: id },
      { key: 'f1', value: 0.7, timestamp: 3, step: 0, run_id: run, model_id: id, dataset_name: 'eval', dataset_digest: 'abc' },
      { key: 'loss', value: 'NaN', timestamp: 2, step: 1, run_id: run, model_id: id },
    ]);
    const runOut = (await get('runs/get', { run_id: run })).body.run;
    expect(runOut.outputs.model_outputs).toEqual([{ model_id: id, step: 1 }]);
    // The run's history still has each point once, now carrying the model id.
    const history = (await get('metrics/get-history', { run_id: run, metric_key: 'acc' })).body.metrics;
    expect(history).toHaveLength(2);
    expect(history.find((m: { step: number }) => m.step === 1).model_id).toBe(id);
  });
});

describe('search_logged_models', () => {
  let exp: string;
  let a: string;
  let b: string;
  let c: string;
  beforeAll(async () => {
    exp = await newExperiment();
    const run = (await post('runs/create', { experiment_id: exp })).body.run.info.run_id;
    const mk = async (name: string, params: Record<string, string>, metrics: [string, number, string?][], tags: Record<string, string> = {}) => {
      await new Promise((resolve) => setTimeout(resolve, 3)); // distinct creation times
      const res = await post('logged-models', {
        experiment_id: exp,
        name,
        source_run_id: run,
        model_type: name === 'a' ? 'sklearn' : 'torch',
        params: Object.entries(params).map(([key, value]) => ({ key, value })),
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      });
      const id = res.body.model.info.model_id;
      await post('runs/log-batch', {
        run_id: run,
        metrics: metrics.map(([key, value, dataset], i) => ({ key, value, timestamp: 10 + i, step: 0, model_id: id, dataset_name: dataset, dataset_digest: dataset ? 'd1' : undefined })),
      });
      return id;
    };
    a = await mk('a', { lr: '0.1' }, [['acc', 0.7], ['acc', 0.95, 'test']], { team: 'x' });
    b = await mk('b', { lr: '0.2' }, [['acc', 0.8]]);
    c = await mk('c', { lr: '0.1' }, [['rmse', 3]]);
    await patch(`logged-models/${a}`, { status: 'LOGGED_MODEL_READY' });
  });

  it('returns models newest first by default, scoped to the experiments', async () => {
    expect(ids(await search({ experiment_ids: [exp] }))).toEqual([c, b, a]);
    expect(await search({ experiment_ids: [] })).toEqual({});
    const missing = await post('logged-models/search', {});
    expect(missing.status).toBe(400);
  });

  it('filters on attributes, params, tags and latest metrics', async () => {
    const q = async (filter: string) => ids(await search({ experiment_ids: [exp], filter }));
    expect(await q("name = 'a'")).toEqual([a]);
    expect(await q("name IN ('a', 'b')")).toEqual([b, a]);
    expect(await q("model_type != 'sklearn'")).toEqual([c, b]);
    expect(await q("status = 'READY'")).toEqual([a]);
    expect(await q("status = 'LOGGED_MODEL_PENDING'")).toEqual([c, b]);
    expect(await q("params.lr = '0.1'")).toEqual([c, a]);
    expect(await q("tags.team = 'x'")).toEqual([a]);
    expect(await q('metrics.acc > 0.9')).toEqual([a]);
    expect(await q('metrics.acc >= 0.8 AND params.lr = \'0.2\'')).toEqual([b]);
    expect(await q(`source_run_id LIKE '%' AND creation_timestamp > 0`)).toEqual([c, b, a]);
    expect((await post('logged-models/search', { experiment_ids: [exp], filter: "status = 'DONE'" })).status).toBe(400);
    expect((await post('logged-models/search', { experiment_ids: [exp], filter: "status LIKE 'R%'" })).status).toBe(400);
    expect((await post('logged-models/search', { experiment_ids: [exp], filter: 'datasets.name = 1' })).status).toBe(400);
  });

  it('restricts metrics to datasets', async () => {
    const onTest = await search({ experiment_ids: [exp], datasets: [{ dataset_name: 'test' }] });
    expect(ids(onTest)).toEqual([a]);
    const withDigest = await search({ experiment_ids: [exp], datasets: [{ dataset_name: 'test', dataset_digest: 'nope' }] });
    expect(ids(withDigest)).toEqual([]);
    expect(ids(await search({ experiment_ids: [exp], filter: 'metrics.acc < 0.9', datasets: [{ dataset_name: 'test' }] }))).toEqual([]);
    expect((await post('logged-models/search', { experiment_ids: [exp], datasets: [{ dataset_digest: 'x' }] })).status).toBe(400);
  });

  it('orders by attributes and metrics (missing values last) and pages with a bound token', async () => {
    const order = async (order_by: unknown[]) => ids(await search({ experiment_ids: [exp], order_by }));
    expect(await order([{ field_name: 'name', ascending: true }])).toEqual([a, b, c]);
    expect(await order([{ field_name: 'metrics.acc', ascending: false }])).toEqual([a, b, c]);
    expect(await order([{ field_name: 'metrics.acc', ascending: true }])).toEqual([b, a, c]);
    // Only a has acc on the test dataset; the others sort last, newest first.
    expect(await order([{ field_name: 'metrics.acc', ascending: true, dataset_name: 'test' }])).toEqual([a, c, b]);
    expect((await post('logged-models/search', { experiment_ids: [exp], order_by: [{ field_name: 'params.lr' }] })).status).toBe(400);
    expect((await post('logged-models/search', { experiment_ids: [exp], order_by: [{ field_name: 'bogus' }] })).status).toBe(400);

    const p1 = await search({ experiment_ids: [exp], max_results: 2 });
    expect(ids(p1)).toEqual([c, b]);
    const p2 = await search({ experiment_ids: [exp], max_results: 2, page_token: p1.next_page_token });
    expect(ids(p2)).toEqual([a]);
    expect(p2.next_page_token).toBeUndefined();
    const mismatch = await post('logged-models/search', { experiment_ids: [exp], filter: "name = 'a'", max_results: 2, page_token: p1.next_page_token });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toContain('Filter string in the page token does not match');
  });
});

describe('artifact listing', () => {
  it("lists a logged model's artifact folder from the blob store", async () => {
    const model = await create();
    const id = model.info.model_id;
    const base = `${experimentId}/models/${id}/artifacts`;
    await t.deps.blobs.put(`${base}/MLmodel`, Readable.from([Buffer.from('flavors: {}\n')]));
    await t.deps.blobs.put(`${base}/sub/model.pkl`, Readable.from([Buffer.from('12345')]));
    const res = await get(`logged-models/${id}/artifacts/directories`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      root_uri: model.info.artifact_uri,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'sub', is_dir: true },
      ],
    });
    const sub = await get(`logged-models/${id}/artifacts/directories`, { artifact_directory_path: 'sub' });
    expect(sub.body.files).toEqual([{ path: 'sub/model.pkl', is_dir: false, file_size: 5 }]);
    expect((await get(`logged-models/${id}/artifacts/directories`, { artifact_directory_path: '../x' })).status).toBe(400);
    expect((await get(`logged-models/m-${'3'.repeat(32)}/artifacts/directories`)).status).toBe(404);
  });
});
