// Class 2: local file read through a user-chosen model-version `source`.
// CVE-2023-1177 (file:///etc then get-artifact path=passwd), CVE-2023-6977 (//proc/self/root),
// CVE-2024-3573 (empty or file schemes), CVE-2024-1558 (only urlparse().path checked), CVE-2025-11201,
// CVE-2026-2614, and the attack inputs listed in MLflow's
// handlers._validate_non_local_source_contains_relative_paths. Each must be refused with a 4xx, and
// nothing outside Cairn's store may come back from the registry's download URI.
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
  let registryReady = false;
  let modelName: string;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    modelName = uniqueName('sec-model');
    const created = await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name: modelName });
    // The registry is its own issue; until it lands these checks have nothing to run against.
    registryReady = created.status === 200;
  });
  afterAll(() => t.close());

  it.each(BAD_SOURCES)('refuses source %j with a 4xx', async (source) => {
    if (!registryReady) return;
    const res = await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name: modelName, source });
    expect([source, res.status >= 400 && res.status < 500]).toEqual([source, true]);
    expect(JSON.stringify(res.body)).not.toContain('root:');
  });

  it('leaves no version behind that points outside the store', async () => {
    if (!registryReady) return;
    const res = await t.api.post('/api/2.0/mlflow/model-versions/search').send({ filter: `name = '${modelName}'` });
    const versions = res.status === 200 ? (res.body.model_versions ?? []) : [];
    expect(versions).toEqual([]);
  });
});
