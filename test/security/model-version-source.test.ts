// Class 2: local file read through a user-chosen model-version `source`.
// CVE-2023-1177 (file:///etc then get-artifact path=passwd), CVE-2023-6977 (//proc/self/root),
// CVE-2024-3573 (empty or file schemes), CVE-2024-1558 (only urlparse().path checked), CVE-2025-11201,
// CVE-2026-2614, and the attack inputs listed in MLflow's
// handlers._validate_non_local_source_contains_relative_paths. Each must be refused with a 4xx (also
// when a run_id is given, which is what lets a local path in), and the registry's download URI of a
// version made from a run is that run's folder in Cairn's store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, startArtifactApp, type ArtifactApp } from '../integration/artifacts-backends.js';

export const BAD_SOURCES = [
  'file:///etc',
  'file:///etc/passwd',
  'file://localhost/etc',
  'file:/etc',
  '/etc',
  '/etc/passwd',
  '//proc/self/root',
  '/proc/self/root/etc',
  '/models/artifacts/../../..',
  'models/../../../etc',
  '../../../etc',
  's3:/b/x/../../y',
  's3://b/x/../../y',
  's3://b/x/%2e%2e/%2e%2e/y',
  's3://b/x/%252e%252e%252fy',
  'mlflow-artifacts://host:port/..%2f..%2f..%2f..%2f',
  'mlflow-artifacts:/..%2f..%2fetc',
  'mlflow-artifacts:/%252e%252e%252fetc',
  'mlflow-artifacts:/1/r/artifacts/../../../../etc',
  'http://host:port/api/2.0/mlflow-artifacts/artifacts%00',
  'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/../../../',
  'file:///safe?x=../../etc',
  'file:///safe#/../../etc',
  'dbfs:/../etc',
  'C:\\Windows\\System32',
  '\\\\?\\C:\\Windows',
  'runs:/00000000000000000000000000000000/../../../etc',
  'models:/m/1/../../../../etc',
  '',
];

describe.each(artifactBackends().slice(0, 1))('model-version source ($name store)', (backend) => {
  let t: ArtifactApp;
  let modelName: string;
  let runId: string;
  let runArtifactUri: string;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    modelName = uniqueName('sec-model');
    // Setup failing is a failure of every case below, never a silent pass.
    const created = await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name: modelName });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const exp = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('sec-model-exp') });
    expect(exp.status, JSON.stringify(exp.body)).toBe(200);
    const run = await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp.body.experiment_id });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    runId = run.body.run.info.run_id;
    runArtifactUri = run.body.run.info.artifact_uri;
  });
  afterAll(() => t.close());

  it.each(BAD_SOURCES)('refuses source %j with a 4xx, with or without a run_id', async (source) => {
    for (const extra of [{}, { run_id: runId }]) {
      const res = await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name: modelName, source, ...extra });
      expect([source, extra, res.status >= 400 && res.status < 500]).toEqual([source, extra, true]);
      expect(JSON.stringify(res.body)).not.toContain('root:');
    }
  });

  it('leaves no version behind that points outside the store', async () => {
    const res = await t.api.get('/api/2.0/mlflow/model-versions/search').query({ filter: `name = '${modelName}'` });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.model_versions ?? []).toEqual([]);
  });

  it('answers get-download-uri only with a place inside the run, and serves the stored bytes from it', async () => {
    const name = uniqueName('sec-model-ok');
    expect((await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name })).status).toBe(200);
    const root = runArtifactUri.replace(/^mlflow-artifacts:\//, '');
    expect(runArtifactUri.startsWith('mlflow-artifacts:/')).toBe(true);
    const put = await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`).send('flavors: {}');
    expect(put.status).toBe(200);
    const fromRun = await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name, source: `runs:/${runId}/model`, run_id: runId });
    expect(fromRun.status, JSON.stringify(fromRun.body)).toBe(200);
    const fromModel = await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name, source: `models:/${name}/1` });
    expect(fromModel.status, JSON.stringify(fromModel.body)).toBe(200);
    for (const version of ['1', '2']) {
      const res = await t.api.get('/api/2.0/mlflow/model-versions/get-download-uri').query({ name, version });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      // Exactly the run's model folder: under Cairn's proxied store, no scheme or path of the caller's.
      expect([version, res.body.artifact_uri]).toEqual([version, `${runArtifactUri}/model`]);
      const listed = await t.api.get('/api/2.0/mlflow-artifacts/artifacts').query({ path: `${root}/model` });
      expect(listed.body.files).toEqual([{ path: 'MLmodel', is_dir: false, file_size: 'flavors: {}'.length }]);
    }
    // A deleted or unknown version has no download URI at all.
    const missing = await t.api.get('/api/2.0/mlflow/model-versions/get-download-uri').query({ name, version: '3' });
    expect(missing.status).toBe(404);
  });
});
