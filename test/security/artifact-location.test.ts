// Class 3: local file read through an experiment's artifact_location (URI confusion).
// CVE-2024-1483, CVE-2024-1594, CVE-2024-2928, CVE-2024-3848 ('#'), CVE-2024-1593 / PR #11473 (';'),
// PR #10653 ('?'), CVE-2024-8859 (dbfs:/), issue #24767 (metadata service). A client may only choose
// an allow-listed scheme with no fragment, params, query or dot segments, and Cairn never reads a
// location a client chose: the tracking-side listing reads only its own stores.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, startArtifactApp, type ArtifactApp } from '../integration/artifacts-backends.js';

export const BAD_LOCATIONS = [
  'http:///#/../../../../etc/',
  'http://host/;..%2F..%2Fetc',
  'http://h/b?a=../../../../etc',
  'http://169.254.169.254/latest/meta-data/',
  'https://example.com/artifacts',
  'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts',
  'ftp://attacker/a',
  'file:///',
  'file:///etc',
  'file://localhost/etc/passwd',
  '/etc',
  './mlruns',
  'mlruns',
  '//proc/self/root',
  'C:\\mlruns',
  '\\\\server\\share',
  'dbfs:/',
  'dbfs:/databricks/mlflow',
  'hdfs://namenode/x',
  'models:/m/1',
  'javascript:alert(1)',
  'data:text/plain,x',
  'mlflow-artifacts://attacker.example:5000/x',
  'mlflow-artifacts://127.0.0.1:1/0',
  'mlflow-artifacts:/../../etc',
  'mlflow-artifacts:/1/../../etc',
  'mlflow-artifacts:/%2e%2e/%2e%2e/etc',
  'mlflow-artifacts:/%252e%252e%252fetc',
  'mlflow-artifacts:/a#/../../b',
  'mlflow-artifacts:/a;..%2F..%2Fb',
  'mlflow-artifacts:/a?x=../../b',
  'mlflow-artifacts:/a\\..\\..\\b',
  'mlflow-artifacts:/.cairn-tmp',
  's3://bucket/../x',
  's3://bucket/%2e%2e/x',
  's3://bucket/%252e%252e%252fx',
  's3://bucket/x#y',
  's3://bucket/x;y',
  's3://bucket/x?versionId=1',
  's3://Bad_Bucket/x',
  's3:///x',
  's3://',
  's3:/bucket/x',
  'gs://b/x/../../y',
  'wasbs://c@a.blob.core.windows.net/..%2f..%2fx',
  'mlflow-artifacts:/x\u0000y',
  'mlflow-artifacts:/x\ny',
];

export const GOOD_LOCATIONS = ['mlflow-artifacts:/team-a', 's3://my-bucket/some/where', 'gs://bucket/x', 'wasbs://c@acct.blob.core.windows.net/x', 'abfss://c@acct.dfs.core.windows.net/x'];

describe.each(artifactBackends())('artifact_location allow-list on $name', (backend) => {
  let t: ArtifactApp;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
  });
  afterAll(() => t.close());

  const createExperiment = (name: string, artifact_location: string) =>
    t.api.post('/api/2.0/mlflow/experiments/create').send({ name, artifact_location });
  const listRun = (runId: string) => t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: runId });

  it.each(BAD_LOCATIONS)('refuses %j with 400 and creates nothing', async (location) => {
    const name = uniqueName('bad-loc');
    const res = await createExperiment(name, location);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: name })).status).toBe(404);
  });

  it.each(GOOD_LOCATIONS)('accepts %j, and runs get URIs under it', async (location) => {
    const res = await createExperiment(uniqueName('good-loc'), location);
    expect(res.status).toBe(200);
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: res.body.experiment_id })).body.run.info;
    expect(run.artifact_uri).toBe(`${location}/${run.run_id}/artifacts`);
  });

  it('lists a client-chosen mlflow-artifacts: folder inside its own store', async () => {
    const exp = (await createExperiment(uniqueName('team'), 'mlflow-artifacts:/team-b')).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/team-b/${run.run_id}/artifacts/f.txt`).send('x');
    expect((await listRun(run.run_id)).body.files).toEqual([{ path: 'f.txt', is_dir: false, file_size: 1 }]);
  });

  it('never reads a client-chosen bucket', async () => {
    const exp = (await createExperiment(uniqueName('foreign'), 's3://someone-elses-bucket/x')).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    const res = await listRun(run.run_id);
    expect(res.status).toBe(400);
  });

  // Defence in depth: even a row that got past validation (an old version, a hand edit) is not followed.
  it.each([
    'mlflow-artifacts:/../../etc',
    'mlflow-artifacts:/%2e%2e/%2e%2e/etc',
    'mlflow-artifacts:/a/..%2F..%2F..%2Fetc',
    'file:///etc',
    '/etc',
    'http://169.254.169.254/latest/meta-data',
    'dbfs:/x',
  ])('refuses to list a run whose stored artifact_uri is %j', async (uri) => {
    const exp = (await createExperiment(uniqueName('tampered'), 'mlflow-artifacts:/tampered')).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    await t.deps.db.execute(sql`update runs set artifact_uri = ${uri} where run_id = ${run.run_id}`);
    const res = await listRun(run.run_id);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('root:');
  });
});
