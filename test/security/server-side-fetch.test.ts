// Class 4: arbitrary file write through a server-side fetch of attacker data.
// CVE-2023-6018 (server downloads a listing from an attacker's "artifact server" and writes its paths),
// GHSA-5p3h-7fwh-92rc, CVE-2023-6975 (ftp:// source), CVE-2024-0520 (Content-Disposition filename
// with ../ trusted by a client). Cairn must never connect to a host a client named, and the names it
// puts in Content-Disposition must be safe to save.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, rawRequest, s3Endpoint, startArtifactApp, type ArtifactApp } from '../integration/artifacts-backends.js';

const A = '/api/2.0/mlflow-artifacts/artifacts';

describe.each(artifactBackends())('no server-side fetch on $name', (backend) => {
  let t: ArtifactApp;
  let canary: net.Server;
  let canaryHits = 0;
  let canaryPort = 0;
  const connects: string[] = [];
  beforeAll(async () => {
    canary = net.createServer((s) => {
      canaryHits++;
      s.destroy();
    });
    await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
    canaryPort = (canary.address() as net.AddressInfo).port;
    t = await startArtifactApp(backend);
    // Record every outbound connection the process opens from here on.
    const original = net.Socket.prototype.connect;
    vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
      // Node passes its normalised [options, callback] pair as the first argument.
      const first = Array.isArray(args[0]) ? args[0][0] : args[0];
      // Or connect(port, host) as node-postgres calls it (host defaults to localhost).
      const opts = first as { host?: string; port?: number; path?: string } | number | string;
      connects.push(
        typeof opts === 'object'
          ? `${opts.host ?? 'localhost'}:${opts.port ?? opts.path ?? ''}`
          : `${typeof args[1] === 'string' ? args[1] : 'localhost'}:${opts}`,
      );
      return (original as (...a: unknown[]) => net.Socket).apply(this, args);
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t.close();
    await new Promise<void>((resolve) => canary.close(() => resolve()));
  });

  const hostile = () => [
    `http://127.0.0.1:${canaryPort}/api/2.0/mlflow-artifacts/artifacts/`,
    `https://127.0.0.1:${canaryPort}/x`,
    `ftp://127.0.0.1:${canaryPort}/a`,
    `mlflow-artifacts://127.0.0.1:${canaryPort}/0`,
    `s3://127.0.0.1:${canaryPort}/x`,
    `http://localtest.me:${canaryPort}/`,
    `http://0x7f000001:${canaryPort}/`,
    `http://[::1]:${canaryPort}/`,
    'http://169.254.169.254/latest/meta-data/',
  ];

  it('refuses every artifact_location naming another host, and connects to none of them', async () => {
    const model = uniqueName('fetch-model');
    const created = await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name: model });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    for (const url of hostile()) {
      const exp = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('fetch'), artifact_location: url });
      expect([url, exp.status]).toEqual([url, 400]);
      // MLflow accepts remote sources as opaque names; what matters here is that none is fetched.
      const version = await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name: model, source: url });
      expect([url, version.status < 500]).toEqual([url, true]);
      // URLs in every artifact input are names at most, never fetched.
      await rawRequest(t, 'GET', `${A}?path=${encodeURIComponent(url)}`);
      await rawRequest(t, 'POST', '/api/2.0/mlflow-artifacts/mpu/create/1/r/artifacts', JSON.stringify({ path: url, num_parts: 1 }));
      await rawRequest(t, 'PUT', `${A}/1/r/artifacts/${encodeURIComponent(url)}`, 'x');
    }
    expect(canaryHits).toBe(0);
  });

  it('opens no connection except to its own S3 endpoint', async () => {
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('reads') })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
    await t.api.put(`${A}/${root}/f.txt`).send('x');
    await t.api.get(`${A}/${root}/f.txt`);
    await t.api.get(A).query({ path: root });
    await t.api.get('/api/2.0/mlflow/artifacts/list').query({ run_id: run.run_id });
    const allowed = new Set<string>();
    if (s3Endpoint) allowed.add(`${new URL(s3Endpoint).hostname}:${new URL(s3Endpoint).port}`);
    if (process.env.TEST_DATABASE_URL) allowed.add(`${new URL(process.env.TEST_DATABASE_URL).hostname}:${new URL(process.env.TEST_DATABASE_URL).port || 5432}`);
    const { port } = t.server.address() as net.AddressInfo;
    allowed.add(`127.0.0.1:${port}`); // supertest talking to the app itself
    expect(connects.length).toBeGreaterThan(0); // the spy sees connections at all
    // Host and port both: another host on an allowed port is still a foreign connection.
    const foreign = connects.filter((c) => !allowed.has(c));
    expect(foreign).toEqual([]);
    expect(canaryHits).toBe(0);
  });
});

describe('download names are safe to save', () => {
  let t: ArtifactApp;
  beforeAll(async () => {
    t = await startArtifactApp(artifactBackends()[0]);
  });
  afterAll(() => t.close());

  it.each([
    ['a"b.txt', 'attachment; filename="a\\"b.txt"'],
    ['semi colon.txt', 'attachment; filename="semi colon.txt"'],
    ['back`tick.txt', 'attachment; filename=back`tick.txt'],
    ['évil.html', "attachment; filename=evil.html; filename*=UTF-8''%C3%A9vil.html"],
  ])('names %j as %j, with the basename only', async (name, header) => {
    const p = `1/r/artifacts/sub dir/${encodeURIComponent(name)}`;
    expect((await rawRequest(t, 'PUT', `${A}/${p.replace(/ /g, '%20')}`, '<script>alert(1)</script>')).status).toBe(200);
    const res = await rawRequest(t, 'GET', `${A}/${p.replace(/ /g, '%20')}`);
    expect(res.headers['content-disposition']).toBe(header);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain('sandbox');
  });
});
