import net from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, s3Bucket, s3Endpoint, startArtifactApp, testS3Client, type ArtifactApp } from './artifacts-backends.js';

const A = '/api/2.0/mlflow-artifacts/artifacts';

describe('direct mode (--no-serve-artifacts)', () => {
  let t: ArtifactApp;
  let root: string;
  beforeAll(async () => {
    const [backend] = artifactBackends().slice(-1);
    root = backend.name === 's3' ? `s3://${s3Bucket()}/${uniqueName('direct')}` : `/tmp/${uniqueName('cairn-direct')}`;
    t = await startArtifactApp(backend, ['--no-serve-artifacts', '--default-artifact-root', root]);
  });
  afterAll(() => t.close());

  it('gives experiments and runs locations under the root, which clients write to themselves', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('direct') })).body.experiment_id;
    const got = await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: exp });
    expect(got.body.experiment.artifact_location).toBe(`${root}/${exp}`);
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    expect(run.artifact_uri).toBe(`${root}/${exp}/${run.run_id}/artifacts`);
  });

  it('turns the proxy off with a 501 that says why', async () => {
    for (const res of [
      await t.api.put(`${A}/1/x.txt`).send('x'),
      await t.api.get(`${A}/1/x.txt`),
      await t.api.get(A).query({ path: '1' }),
      await t.api.delete(`${A}/1/x.txt`),
    ]) {
      expect(res.status).toBe(501);
      expect(res.body.message).toContain('--no-serve-artifacts');
    }
  });

  // Defined only where it applies (an S3 server is configured), rather than reported as skipped elsewhere.
  if (s3Endpoint) it('lists a run written straight to S3 through the tracking API', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('direct-list') })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    const key = `${run.artifact_uri.slice(`s3://${s3Bucket()}/`.length)}/dir/file.txt`;
    const client = testS3Client();
    await client.send(new PutObjectCommand({ Bucket: s3Bucket(), Key: key, Body: 'direct' }));
    client.destroy();
    const listed = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id });
    expect(listed.body).toEqual({ root_uri: run.artifact_uri, files: [{ path: 'dir', is_dir: true }] });
    const sub = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id, path: 'dir' });
    expect(sub.body.files).toEqual([{ path: 'dir/file.txt', is_dir: false, file_size: 6 }]);
  });

  it('does not list a location a client chose for its experiment', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('elsewhere'), artifact_location: 's3://someone-elses-bucket/x' })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    const listed = await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id });
    expect(listed.status).toBe(400);
    expect(listed.body.message).toContain('only in its own stores');
  });
});

describe('S3 outage', () => {
  let t: ArtifactApp;
  beforeAll(async () => {
    // A port nobody listens on: every S3 call is refused.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const offline = {
      name: 's3' as const,
      allocate: async () => ({
        destination: 's3://offline-bucket/prefix',
        env: { MLFLOW_S3_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' },
        writeOutside: async () => {},
        snapshotOutside: async () => ({}),
        listInside: async () => [],
        cleanup: async () => {},
      }),
    };
    t = await startArtifactApp(offline);
  });
  afterAll(() => t.close());

  it('answers artifact calls with 503 TEMPORARILY_UNAVAILABLE and the reason', async () => {
    for (const res of [
      await t.api.put(`${A}/1/r/artifacts/a.txt`).send('x'),
      await t.api.get(`${A}/1/r/artifacts/a.txt`),
      await t.api.get(A).query({ path: '1' }),
      await t.api.delete(`${A}/1/r/artifacts/a.txt`),
      await t.api.post('/api/2.0/mlflow-artifacts/mpu/create/1/r/artifacts').send({ path: 'big.bin', num_parts: 2 }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      expect(res.body.message).toMatch(/^The artifact store s3:\/\/offline-bucket\/prefix is unavailable: .*ECONNREFUSED/);
    }
  });

  it('keeps serving everything else', async () => {
    expect((await t.api.get('/health')).text).toBe('OK');
    const exp = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('outage') });
    expect(exp.status).toBe(200);
    const run = await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp.body.experiment_id });
    expect(run.status).toBe(200);
    expect((await t.api.post('/api/2.0/mlflow/runs/log-metric').send({ run_id: run.body.run.info.run_id, key: 'm', value: 1, timestamp: 1 })).status).toBe(200);
  });
});

describe('artifact configuration', () => {
  const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(['--backend-store-uri', 'memory://', ...args], env);

  it('reads the S3 settings MLflow users already export', () => {
    const cfg = parse(['--artifacts-destination', 's3://bucket/pre'], {
      MLFLOW_S3_ENDPOINT_URL: 'http://minio:9000', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'eu-west-1', MLFLOW_S3_IGNORE_TLS: 'true',
    });
    expect(cfg.s3).toEqual({ endpointUrl: 'http://minio:9000', region: 'eu-west-1', accessKeyId: 'k', secretAccessKey: 's', ignoreTls: true });
    expect(parse([], { AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: 'x' }).s3.region).toBe('us-west-2');
  });

  it('accepts folders, file: URIs and s3:// destinations and refuses other stores at start-up', () => {
    for (const ok of ['/srv/artifacts', './rel', 'file:///srv/a', 's3://my-bucket', 's3://my-bucket/a/b/']) {
      expect(() => parse(['--artifacts-destination', ok])).not.toThrow();
    }
    for (const bad of ['gs://b/p', 'http://example.com/x', 'ftp://h/x', 's3://B_ad/x', 's3://bucket/../x', 'dbfs:/x']) {
      expect(() => parse(['--artifacts-destination', bad]), bad).toThrow(/unsupported --artifacts-destination/);
    }
  });

  it('allow-lists --default-artifact-root schemes', () => {
    for (const ok of ['mlflow-artifacts:', 'mlflow-artifacts:/team', 's3://b-1/x', 'gs://b/x', '/srv/mlruns', 'file:///srv/mlruns']) {
      expect(() => parse(['--default-artifact-root', ok])).not.toThrow();
    }
    expect(() => parse(['--default-artifact-root', 'dbfs:/x'])).toThrow(/unsupported --default-artifact-root scheme 'dbfs:'/);
    expect(() => parse(['--default-artifact-root', 's3://b/x#frag'])).toThrow(/invalid --default-artifact-root/);
    expect(() => parse(['--default-artifact-root', 's3://b/../x'])).toThrow(/invalid --default-artifact-root/);
    expect(() => parse(['--no-serve-artifacts'])).toThrow(/--no-serve-artifacts needs a --default-artifact-root/);
    expect(parse(['--default-artifact-root', 'rel/root']).defaultArtifactRoot).toMatch(/^\/.*\/rel\/root$/);
  });

  it('refuses a malformed endpoint URL', () => {
    expect(() => parse([], { MLFLOW_S3_ENDPOINT_URL: 'not a url' })).toThrow();
  });
});
