import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// JSON bodies are read straight from the socket: chunked bodies (no Content-Length), a UTF-8 BOM
// and the size cap must behave as they did through the web Request.
function chunkedPost(t: TestApp, path: string, parts: string[]): Promise<{ status: number; body: string; connection?: string }> {
  const { port } = t.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('JSON request bodies', () => {
  let t: TestApp;
  let runId: string;
  beforeAll(async () => {
    t = await startTestApp();
    const exp = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('body') });
    const run = await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp.body.experiment_id });
    runId = run.body.run.info.run_id;
  });
  afterAll(() => t.close());

  it('reads a chunked body in several pieces', async () => {
    const body = JSON.stringify({ run_id: runId, key: 'loss', value: 0.5, timestamp: 1, step: 3 });
    const res = await chunkedPost(t, '/api/2.0/mlflow/runs/log-metric', [body.slice(0, 5), body.slice(5, 20), body.slice(20)]);
    expect(res.status).toBe(200);
    const got = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: runId });
    expect(got.body.run.data.metrics).toEqual([{ key: 'loss', value: 0.5, timestamp: 1, step: 3 }]);
  });

  it('accepts a body that starts with a UTF-8 byte order mark', async () => {
    const res = await chunkedPost(t, '/api/2.0/mlflow/runs/set-tag', ['\uFEFF' + JSON.stringify({ run_id: runId, key: 'bom', value: 'é' })]);
    expect(res.status).toBe(200);
    const got = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: runId });
    expect(got.body.run.data.tags).toContainEqual({ key: 'bom', value: 'é' });
  });

  it('refuses a chunked body over the cap with a 400 and closes the connection', async () => {
    const piece = 'x'.repeat(256 * 1024);
    const parts = [`{"run_id": "${runId}", "tags": [{"key": "big", "value": "`, ...Array(5).fill(piece), '"}]}'];
    const res = await chunkedPost(t, '/api/2.0/mlflow/runs/log-batch', parts);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('exceeds the limit of 1000000 bytes') });
    expect(res.connection).toBe('close');
    const got = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: runId });
    expect(got.body.run.data.tags.map((x: { key: string }) => x.key)).not.toContain('big');
  });
});
