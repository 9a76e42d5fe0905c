// Class: browser-origin attacks. A page the user opens in a browser can send requests to a Cairn on
// their machine or network: a form or no-cors fetch (CSRF, no preflight for text/plain or form
// bodies), or a DNS name rebound to the server's address (the page's own origin, so the browser's
// same-origin rules do not stop it, but Host carries the attacker's name). MLflow's answer
// (GHSA advisories on CORS and DNS rebinding, fixed in 3.5) is its security middleware; Cairn
// mirrors it with the same flags: src/http/browser-origin.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

const API = '/api/2.0/mlflow';

async function newRun(t: TestApp): Promise<string> {
  const exp = await t.api.post(`${API}/experiments/create`).send({ name: uniqueName('origin') });
  const run = await t.api.post(`${API}/runs/create`).send({ experiment_id: exp.body.experiment_id });
  return run.body.run.info.run_id;
}

const stage = async (t: TestApp, runId: string) => (await t.api.get(`${API}/runs/get`).query({ run_id: runId })).body.run.info.lifecycle_stage;

describe('default settings (loopback)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('refuses a cross-origin state-changing request, whatever its content type, and changes nothing', async () => {
    const runId = await newRun(t);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
      const res = await t.api.post(`${API}/runs/delete`).set('Origin', 'http://evil.example').set('Content-Type', type).send(JSON.stringify({ run_id: runId }));
      expect([type, res.status, res.body.error_code]).toEqual([type, 403, 'PERMISSION_DENIED']);
      expect(res.body.message).toBe('Cross-origin request blocked');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    // A sandboxed frame sends `Origin: null`.
    expect((await t.api.post(`${API}/runs/delete`).set('Origin', 'null').send({ run_id: runId })).status).toBe(403);
    expect(await stage(t, runId)).toBe('active');
  });

  it('refuses a JSON body sent as anything but application/json (the content types a form can send)', async () => {
    const runId = await newRun(t);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      const res = await t.api.post(`${API}/runs/delete`).set('Content-Type', type).send(JSON.stringify({ run_id: runId }));
      expect([type, res.status, res.body.error_code]).toEqual([type, 400, 'INVALID_PARAMETER_VALUE']);
      expect(res.body.message).toMatch(/Content-Type must be one of \['application\/json'\]/);
    }
    const untyped = await t.api.post(`${API}/runs/delete`).unset('Content-Type').send(Buffer.from(JSON.stringify({ run_id: runId })));
    expect(untyped.status).toBe(400);
    expect(await stage(t, runId)).toBe('active');
    const ok = await t.api.post(`${API}/runs/delete`).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ run_id: runId }));
    expect(ok.status).toBe(200);
    expect(await stage(t, runId)).toBe('deleted');
  });

  it('also guards the W&B endpoints and the artifact upload, which take no JSON or another type', async () => {
    const gql = await t.api.post('/graphql').set('Origin', 'https://evil.example').set('Content-Type', 'text/plain').send('{"query":"{viewer{id}}"}');
    expect(gql.status).toBe(403);
    const upload = await t.api.put('/wandb-upload/x.y').set('Origin', 'https://evil.example').send('data');
    expect(upload.status).toBe(403);
    const artifact = await t.api.put(`${API}-artifacts/artifacts/0/x/file.txt`).set('Origin', 'https://evil.example').set('Content-Type', 'text/plain').send('data');
    expect(artifact.status).toBe(403);
    // Paths Cairn does not serve keep their own answer (wandb-core's telemetry probe needs its 404).
    const otel = await t.api.post('/sdk/otel/v1/traces').set('Content-Type', 'application/x-protobuf').send(Buffer.from([1, 2, 3]));
    expect(otel.status).toBe(404);
    // Raw uploads keep any content type when no foreign page sent them.
    const own = await t.api.put(`${API}-artifacts/artifacts/${uniqueName('raw')}/file.txt`).set('Content-Type', 'text/plain').send('data');
    expect(own.status).toBe(200);
  });

  it('lets pages served from loopback in (any port), and says so in CORS headers', async () => {
    const runId = await newRun(t);
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080']) {
      const res = await t.api.post(`${API}/runs/set-tag`).set('Origin', origin).send({ run_id: runId, key: 'k', value: origin });
      expect([origin, res.status]).toEqual([origin, 200]);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toMatch(/Origin/);
    }
  });

  it('answers preflights: 204 with CORS headers for allowed origins, 403 without them for others', async () => {
    const ok = await t.api
      .options(`${API}/runs/delete`)
      .set('Origin', 'http://localhost:3000')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type, authorization');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(ok.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(ok.headers['access-control-allow-headers']).toBe('content-type, authorization');
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const evil = await t.api.options(`${API}/runs/delete`).set('Origin', 'http://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a Host that is not loopback or a private address (DNS rebinding), but not on /health', async () => {
    for (const host of ['evil.example', 'evil.example:5000', '10.evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:80']) {
      const res = await t.api.get(`${API}/experiments/search`).query({ max_results: 1 }).set('Host', host);
      expect([host, res.status, res.body.message]).toEqual([host, 403, 'Invalid Host header - possible DNS rebinding attack detected']);
    }
    const write = await t.api.post(`${API}/experiments/create`).set('Host', 'evil.example').send({ name: uniqueName('rebind') });
    expect(write.status).toBe(403);
    for (const host of ['localhost:5000', '127.0.0.1', '192.168.1.20:5000', '10.0.0.5', '172.20.1.1:80', '[::1]:5000', 'LOCALHOST:5000']) {
      const res = await t.api.get(`${API}/experiments/search`).query({ max_results: 1 }).set('Host', host);
      expect([host, res.status]).toEqual([host, 200]);
    }
    expect((await t.api.get('/health').set('Host', 'evil.example')).status).toBe(200);
  });

  it('sends nosniff and frame protection on every response, errors included', async () => {
    for (const res of [
      await t.api.get('/health'),
      await t.api.get(`${API}/runs/get`).query({ run_id: 'nope' }),
      await t.api.get('/no/such/path'),
      await t.api.get(`${API}/experiments/search`).set('Host', 'evil.example'),
      await t.api.post(`${API}/runs/delete`).set('Origin', 'http://evil.example').send({}),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });
});

describe('configured for a team deployment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(['--allowed-hosts', 'cairn.example.com,*.internal:5000', '--cors-allowed-origins', 'https://notebook.example.com,https://*.apps.example.com', '--x-frame-options', 'deny']);
  });
  afterAll(() => t.close());

  it('accepts only the listed hosts (loopback included only if listed)', async () => {
    for (const [host, status] of [['cairn.example.com', 200], ['CAIRN.example.com', 200], ['a.internal:5000', 200], ['a.internal:6000', 403], ['127.0.0.1', 403], ['evil.example', 403]] as const) {
      const res = await t.api.get(`${API}/experiments/search`).query({ max_results: 1 }).set('Host', host);
      expect([host, res.status]).toEqual([host, status]);
    }
  });

  it('accepts the listed origins and the server’s own, refuses others', async () => {
    const post = (origin: string) =>
      t.api.post(`${API}/experiments/create`).set('Host', 'cairn.example.com').set('Origin', origin).send({ name: uniqueName('team') });
    for (const [origin, status] of [
      ['https://notebook.example.com', 200],
      ['https://x.apps.example.com', 200],
      ['https://cairn.example.com', 200],
      ['http://localhost:8888', 200],
      ['https://notebook.example.com.evil.example', 403],
      ['https://evil.example', 403],
    ] as const) {
      const res = await post(origin);
      expect([origin, res.status]).toEqual([origin, status]);
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });
});

describe('escape hatches', () => {
  it('--disable-security-middleware turns every check off, as in MLflow', async () => {
    const t = await startTestApp(['--disable-security-middleware']);
    try {
      const res = await t.api.post(`${API}/experiments/create`).set('Host', 'evil.example').set('Origin', 'http://evil.example').send({ name: uniqueName('off') });
      expect(res.status).toBe(200);
      expect(res.headers['x-frame-options']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it("CORS origins '*' allows any origin without credentials; X-Frame-Options NONE sends none", async () => {
    const t = await startTestApp([], { env: { MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: '*', MLFLOW_SERVER_X_FRAME_OPTIONS: 'NONE' } });
    try {
      const res = await t.api.post(`${API}/experiments/create`).set('Origin', 'http://anywhere.example').send({ name: uniqueName('star') });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers['x-frame-options']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await t.close();
    }
  });

  it('reads the flags from the MLflow environment variables and refuses a bad X-Frame-Options', () => {
    const cfg = parseConfig([], { MLFLOW_SERVER_ALLOWED_HOSTS: 'a.example, b.example', MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE: 'true' });
    expect(cfg.browserOrigin).toMatchObject({ allowedHosts: ['a.example', 'b.example'], corsAllowedOrigins: [], xFrameOptions: 'SAMEORIGIN', disabled: true });
    expect(() => parseConfig(['--x-frame-options', 'ALLOW-FROM x'])).toThrow(ConfigError);
    expect(() => parseConfig(['--x-frame-options', 'ALLOW-FROM x'])).toThrow(/--x-frame-options/);
  });
});
