import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Model versions: sources and their resolution, lifecycle, tags, download URIs, concurrency.

let t: TestApp;
let experimentId: string;
let runId: string;
let runArtifacts: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('versions') })).body.experiment_id;
  const run = (await post('runs/create', { experiment_id: experimentId })).body.run;
  runId = run.info.run_id;
  runArtifacts = run.info.artifact_uri;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const patch = (path: string, body: unknown) => t.api.patch(`/api/2.0/mlflow/${path}`).send(body as object);
const del = (path: string, body: unknown) => t.api.delete(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);

const newModel = async (extra: Record<string, unknown> = {}) => {
  const name = uniqueName('model');
  expect((await post('registered-models/create', { name, ...extra })).status).toBe(200);
  return name;
};
const createVersion = (name: string, extra: Record<string, unknown> = {}) =>
  post('model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId, ...extra });
const newVersion = async (name: string, extra: Record<string, unknown> = {}) => {
  const res = await createVersion(name, extra);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.model_version;
};
const newLoggedModel = async () => {
  const res = await post('logged-models', { experiment_id: experimentId, name: 'model', source_run_id: runId });
  expect(res.status).toBe(200);
  return res.body.model;
};
const downloadUri = async (name: string, version: string) => (await get('model-versions/get-download-uri', { name, version })).body.artifact_uri;

describe('creating versions', () => {
  it('numbers versions per model and answers READY with every field the client needs', async () => {
    const name = await newModel();
    const mv = await newVersion(name, { description: 'd', run_link: 'http://x', tags: [{ key: 'k', value: 'v' }] });
    expect(mv).toMatchObject({
      name,
      version: '1',
      current_stage: 'None',
      status: 'READY',
      source: `runs:/${runId}/model`,
      run_id: runId,
      description: 'd',
      run_link: 'http://x',
      tags: [{ key: 'k', value: 'v' }],
    });
    expect(mv.creation_timestamp).toBeGreaterThan(0);
    expect((await newVersion(name)).version).toBe('2');
    expect((await newVersion(await newModel())).version).toBe('1');
    const got = await get('model-versions/get', { name, version: '1' });
    expect(got.body.model_version).toEqual(mv);
    // Versions arrive as strings; numbers are accepted too.
    expect((await get('model-versions/get', { name, version: 2 })).body.model_version.version).toBe('2');
  });

  it('resolves runs:/ sources to the run artifact location', async () => {
    const name = await newModel();
    await newVersion(name);
    expect(await downloadUri(name, '1')).toBe(`${runArtifacts}/model`);
  });

  it('refuses runs:/ sources whose run is not the run_id', async () => {
    const name = await newModel();
    for (const body of [
      { source: `runs:/${runId}/model` },
      { source: `runs:/${runId}/model`, run_id: 'a'.repeat(32) },
      { source: `runs://host/${runId}/model`, run_id: runId },
    ]) {
      const res = await post('model-versions/create', { name, ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('registers models:/<model_id> with the logged model location, run and mlflow.modelVersions tag', async () => {
    const model = await newLoggedModel();
    const name = await newModel();
    const mv = await newVersion(name, { source: `models:/${model.info.model_id}`, model_id: model.info.model_id, run_id: undefined });
    expect(mv).toMatchObject({ source: `models:/${model.info.model_id}`, model_id: model.info.model_id, run_id: runId });
    expect(await downloadUri(name, '1')).toBe(model.info.artifact_uri);
    await newVersion(name, { source: `models:/${model.info.model_id}`, model_id: model.info.model_id, run_id: undefined });
    const other = await newModel();
    await newVersion(other, { source: `models:/${model.info.model_id}`, model_id: model.info.model_id, run_id: undefined });
    const lm = (await get(`logged-models/${model.info.model_id}`, {})).body.model;
    const tag = lm.info.tags.find((x: { key: string }) => x.key === 'mlflow.modelVersions');
    expect(tag.value).toBe(`[{"name": "${name}", "version": 1}, {"name": "${name}", "version": 2}, {"name": "${other}", "version": 1}]`);
  });

  it('refuses a models:/<model_id> source without a matching model_id, or a missing model', async () => {
    const model = await newLoggedModel();
    const name = await newModel();
    const source = `models:/${model.info.model_id}`;
    expect((await post('model-versions/create', { name, source })).status).toBe(400);
    expect((await post('model-versions/create', { name, source, model_id: 'm-' + '0'.repeat(32) })).status).toBe(400);
    expect((await post('model-versions/create', { name, source: 'models:/m-' + '0'.repeat(32), model_id: 'm-' + '0'.repeat(32) })).status).toBe(400);
    await t.api.delete(`/api/2.0/mlflow/logged-models/${model.info.model_id}`).send({});
    expect((await post('model-versions/create', { name, source, model_id: model.info.model_id })).status).toBe(400);
  });

  it('accepts proxied artifact sources inside the run (or model) root only', async () => {
    const name = await newModel();
    const inside = `${runArtifacts}/model`;
    const mv = await newVersion(name, { source: inside });
    expect(mv.source).toBe(inside);
    expect(await downloadUri(name, mv.version)).toBe(inside);
    expect((await createVersion(name, { source: `mlflow-artifacts:/${experimentId}/other/artifacts/model` })).status).toBe(400);
    expect((await post('model-versions/create', { name, source: inside })).status).toBe(400);
    const model = await newLoggedModel();
    const inModel = `${model.info.artifact_uri}/MLmodel`;
    const viaModel = await post('model-versions/create', { name, source: inModel, model_id: model.info.model_id });
    expect(viaModel.status).toBe(200);
    expect(viaModel.body.model_version.run_id).toBe(runId);
  });

  it('keeps other sources as given, but refuses relative paths and local files', async () => {
    const name = await newModel();
    const mv = await newVersion(name, { source: 's3://bucket/path/to/model', run_id: undefined });
    expect(await downloadUri(name, mv.version)).toBe('s3://bucket/path/to/model');
    for (const source of [
      's3://bucket/path/../../etc',
      's3://bucket/path/%2e%2e/x',
      's3://bucket/a/./b',
      '/tmp/model',
      'file:///tmp/model',
      'relative/model',
      `mlflow-artifacts:/${experimentId}/${runId}/artifacts/../../x`,
    ]) {
      const res = await createVersion(name, { source });
      expect(res.status, source).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('copies a version from another model through a models:/<name>/<version> source', async () => {
    const model = await newLoggedModel();
    const src = await newModel();
    await newVersion(src, { source: `models:/${model.info.model_id}`, model_id: model.info.model_id, run_id: undefined });
    const dst = await newModel();
    const copy = await newVersion(dst, { source: `models:/${src}/1`, run_id: undefined });
    expect(copy).toMatchObject({ name: dst, version: '1', source: `models:/${src}/1`, run_id: runId, model_id: model.info.model_id });
    expect(await downloadUri(dst, '1')).toBe(model.info.artifact_uri);
    // Stage, latest and alias forms are pinned to the version they meant.
    await post('model-versions/transition-stage', { name: src, version: '1', stage: 'Production' });
    await post('registered-models/alias', { name: src, alias: 'champ', version: '1' });
    for (const source of [`models:/${src}/Production`, `models:/${src}/latest`, `models:/${src}@champ`]) {
      expect((await newVersion(dst, { source, run_id: undefined })).source, source).toBe(`models:/${src}/1`);
    }
    // run_id / model_id that contradict the source version are refused.
    expect((await createVersion(dst, { source: `models:/${src}/1`, run_id: 'b'.repeat(32) })).status).toBe(400);
    expect((await createVersion(dst, { source: `models:/${src}/9`, run_id: undefined })).status).toBe(404);
    expect((await createVersion(dst, { source: `models:/${src}@nope`, run_id: undefined })).status).toBe(404);
    expect((await createVersion(dst, { source: 'models://host/x/1', run_id: undefined })).status).toBe(400);
    expect((await createVersion(dst, { source: 'models:/a/b/c', run_id: undefined })).status).toBe(400);
  });

  it('allocates versions 1..20 exactly when 20 clients register at once', async () => {
    const name = await newModel();
    const results = await Promise.all(Array.from({ length: 20 }, () => createVersion(name)));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const versions = results.map((r) => Number(r.body.model_version.version)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const listed = await get('model-versions/search', { filter: `name = '${name}'`, max_results: 100 });
    expect(listed.body.model_versions).toHaveLength(20);
  });

  it('registers the same logged model 10 times at once without losing a registration', async () => {
    const model = await newLoggedModel();
    const name = await newModel();
    const source = `models:/${model.info.model_id}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => post('model-versions/create', { name, source, model_id: model.info.model_id })));
    for (const r of results) expect(r.status).toBe(200);
    const lm = (await get(`logged-models/${model.info.model_id}`, {})).body.model;
    const tag = JSON.parse(lm.info.tags.find((x: { key: string }) => x.key === 'mlflow.modelVersions').value);
    expect(tag.map((e: { version: number }) => e.version).sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('version lifecycle', () => {
  it('updates the description (absent clears it)', async () => {
    const name = await newModel();
    await newVersion(name, { description: 'old' });
    const res = await patch('model-versions/update', { name, version: '1', description: 'new' });
    expect(res.status).toBe(200);
    expect(res.body.model_version.description).toBe('new');
    expect(res.body.model_version.status).toBe('READY');
    // MLflow writes a cleared description as "".
    expect((await patch('model-versions/update', { name, version: '1' })).body.model_version.description).toBe('');
    expect((await patch('model-versions/update', { name, version: '5', description: 'x' })).status).toBe(404);
  });

  it('deletes a version: gone from get and search, its number not reused', async () => {
    const name = await newModel();
    await newVersion(name);
    await newVersion(name);
    expect((await del('model-versions/delete', { name, version: '2' })).status).toBe(200);
    const got = await get('model-versions/get', { name, version: '2' });
    expect(got.status).toBe(404);
    expect(got.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await del('model-versions/delete', { name, version: '2' })).status).toBe(404);
    expect((await get('model-versions/get-download-uri', { name, version: '2' })).status).toBe(404);
    expect((await newVersion(name)).version).toBe('3');
    const listed = await get('model-versions/search', { filter: `name = '${name}'` });
    expect(listed.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['3', '1']);
    expect((await get('registered-models/get', { name })).body.registered_model.latest_versions.map((v: { version: string }) => v.version)).toEqual(['3']);
  });

  it('sets and deletes version tags, including long prompt-sized values', async () => {
    const name = await newModel();
    await newVersion(name);
    const long = 'p'.repeat(100_000);
    expect((await post('model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' })).status).toBe(200);
    expect((await post('model-versions/set-tag', { name, version: '1', key: 'long', value: long })).status).toBe(200);
    const tags = (await get('model-versions/get', { name, version: '1' })).body.model_version.tags;
    expect(tags).toEqual([
      { key: 'k', value: 'v' },
      { key: 'long', value: long },
    ]);
    expect((await del('model-versions/delete-tag', { name, version: '1', key: 'k' })).status).toBe(200);
    expect((await del('model-versions/delete-tag', { name, version: '1', key: 'k' })).status).toBe(200);
    expect((await post('model-versions/set-tag', { name, version: '1', key: 'long', value: long + 'x' })).status).toBe(400);
    expect((await post('model-versions/set-tag', { name, version: '9', key: 'k', value: 'v' })).status).toBe(404);
    expect((await del('model-versions/delete-tag', { name, version: '9', key: 'k' })).status).toBe(404);
  });
});
