// /metrics (--expose-prometheus) and the structured logs (request ids, access log), on the real app.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { createLogger } from '../../src/observability/logger.js';

/** The value of one series in a Prometheus text scrape (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0];
    if (want.every((w) => labelText.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** A logger writing into an array of parsed lines. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { log, lines };
}

describe('/metrics with --expose-prometheus', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-metrics-'));
    t = await startTestApp(['--artifacts-destination', dir, '--expose-prometheus', dir], { metrics: true });
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const scrape = async () => {
    const res = await t.api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('counts requests by route pattern and status, and times them', async () => {
    const before = await scrape();
    const route = { method: 'GET', route: '/api/2.0/mlflow/experiments/get' };
    const okBefore = sample(before, 'mlflow_http_request_total', { ...route, status: '200' });
    const missingBefore = sample(before, 'mlflow_http_request_total', { ...route, status: '404' });
    await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '0' }).expect(200);
    await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '0' }).expect(200);
    await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '987654321' }).expect(404);
    const after = await scrape();
    expect(sample(after, 'mlflow_http_request_total', { ...route, status: '200' })).toBe(okBefore + 2);
    expect(sample(after, 'mlflow_http_request_total', { ...route, status: '404' })).toBe(missingBefore + 1);
    expect(sample(after, 'mlflow_http_request_duration_seconds_count', { ...route, status_class: '2xx' })).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'cairn_error_responses_total', { error_code: 'RESOURCE_DOES_NOT_EXIST' })).toBeGreaterThanOrEqual(1);
    // The label is the pattern, never the raw path: an artifact path does not make a series of its own.
    await t.api.get('/api/2.0/mlflow-artifacts/artifacts/1/no/such/file.txt');
    expect(await scrape()).not.toContain('no/such/file.txt');
  });

  it('leaves the probes out, as MLflow leaves out /health and /version', async () => {
    await t.api.get('/health').expect(200);
    await t.api.get('/ready').expect(200);
    const text = await scrape();
    expect(text).not.toContain('route="/health"');
    expect(text).not.toContain('route="/ready"');
  });

  it('counts metric points, artifact bytes in and out, and process memory and event-loop lag', async () => {
    const before = await scrape();
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('metrics') }).expect(200)).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp }).expect(200)).body.run.info.run_id;
    const metrics = [1, 2, 3].map((step) => ({ key: 'loss', value: 1 / step, timestamp: 1, step }));
    await t.api.post('/api/2.0/mlflow/runs/log-batch').send({ run_id: run, metrics }).expect(200);
    const body = Buffer.alloc(1000, 7);
    const key = `${exp}/${run}/artifacts/blob.bin`;
    await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${key}`).set('Content-Type', 'application/octet-stream').send(body).expect(200);
    const down = await t.api.get(`/api/2.0/mlflow-artifacts/artifacts/${key}`).buffer(true).expect(200);
    expect(down.body.length ?? Buffer.from(down.text).length).toBe(1000);
    const after = await scrape();
    expect(sample(after, 'cairn_metric_points_logged_total') - sample(before, 'cairn_metric_points_logged_total')).toBe(3);
    expect(sample(after, 'cairn_artifact_bytes_total', { direction: 'in' }) - sample(before, 'cairn_artifact_bytes_total', { direction: 'in' })).toBe(1000);
    expect(sample(after, 'cairn_artifact_bytes_total', { direction: 'out' }) - sample(before, 'cairn_artifact_bytes_total', { direction: 'out' })).toBe(1000);
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after).toContain('nodejs_eventloop_lag_seconds');
  });

  it('reports the database pool on Postgres', async () => {
    const text = await scrape();
    if (t.deps.database.kind === 'postgres') {
      expect(sample(text, 'cairn_db_pool_connections', { state: 'max' })).toBe(4);
      expect(sample(text, 'cairn_db_pool_wait_seconds_count')).toBeGreaterThan(0);
    } else {
      // PGlite is one in-process connection: no pool to report.
      expect(text).not.toContain('cairn_db_pool_connections{');
    }
  });
});

describe('/metrics access', () => {
  it('is absent (404) without --expose-prometheus', async () => {
    const t = await startTestApp();
    try {
      const res = await t.api.get('/metrics');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
      expect(res.body.message).toContain('--expose-prometheus');
    } finally {
      await t.close();
    }
  });

  it('needs an account when auth is on, as in MLflow', async () => {
    const admin = uniqueName('admin');
    const t = await startTestApp(['--app-name', 'basic-auth', '--expose-prometheus', 'x'], {
      metrics: true,
      env: { MLFLOW_AUTH_ADMIN_PASSWORD: 'metrics-admin-pw', CAIRN_AUTH_ADMIN_USERNAME: admin },
    });
    try {
      expect((await t.api.get('/metrics')).status).toBe(401);
      const res = await t.api.get('/metrics').auth(admin, 'metrics-admin-pw');
      expect(res.status).toBe(200);
      expect(res.text).toContain('mlflow_http_request_total');
    } finally {
      await t.close();
    }
  });
});

describe('structured logs', () => {
  let t: TestApp;
  let lines: Record<string, unknown>[];
  beforeAll(async () => {
    const captured = capturedLogger();
    lines = captured.lines;
    t = await startTestApp([], { log: captured.log });
  });
  afterAll(() => t.close());
  const accessLines = () => lines.filter((l) => l.msg === 'request');

  it('writes one JSON access line per request, with its id, route, status and duration', async () => {
    const res = await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '0' }).expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const line = accessLines().find((l) => l.request_id === id);
    expect(line).toMatchObject({ level: 'info', method: 'GET', path: '/api/2.0/mlflow/experiments/get', route: '/api/2.0/mlflow/experiments/get', status: 200 });
    expect(typeof line!.duration_ms).toBe('number');
    expect(typeof line!.time).toBe('string');
  });

  it("keeps the caller's X-Request-Id, and replaces one that could forge log fields", async () => {
    const kept = await t.api.get('/version').set('X-Request-Id', 'lb-7f3a.42');
    expect(kept.headers['x-request-id']).toBe('lb-7f3a.42');
    expect(accessLines().some((l) => l.request_id === 'lb-7f3a.42' && l.path === '/version')).toBe(true);
    const forged = await t.api.get('/version').set('X-Request-Id', 'x" "level":"error'.padEnd(40, 'z'));
    expect(forged.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const tooLong = await t.api.get('/version').set('X-Request-Id', 'a'.repeat(200));
    expect(tooLong.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts the request id on error answers too', async () => {
    const res = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: 'nope' }).set('X-Request-Id', 'err-check-1');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers['x-request-id']).toBe('err-check-1');
    expect(accessLines().find((l) => l.request_id === 'err-check-1')).toMatchObject({ status: res.status });
  });

  it('logs the path without its query string, and W&B upload grants masked', async () => {
    await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: '0', token: 'query-secret-value' });
    await t.api.put('/wandb-upload/grant-secret-value').send('x');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('query-secret-value');
    expect(text).not.toContain('grant-secret-value');
    expect(accessLines().some((l) => l.path === '/wandb-upload/***')).toBe(true);
  });
});
