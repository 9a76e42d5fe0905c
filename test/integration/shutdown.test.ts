import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, startServer, stopServer, type ServerProcess } from '../harness/crash-server.js';
import { startTestApp, type TestApp } from '../harness/app.js';

// Graceful shutdown (SIGTERM, as containers send it) and the readiness probe that load balancers
// read. The shutdown tests run the real `cairn server` process.

/** Starts a PUT whose body is sent in two halves; resolves the response when the server answers. */
function slowUpload(baseUrl: string, artifactPath: string) {
  const url = new URL(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`);
  let answer!: Promise<{ status: number; body: string }>;
  const req = http.request(url, { method: 'PUT', headers: { 'Content-Length': '10' } });
  answer = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.write('hello');
  return { finish: () => req.end('world'), answer, abandon: () => req.destroy() };
}

describe('readiness', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('/ready is 200 while the database answers, 503 once a shutdown drains the process; /health stays 200', async () => {
    const ready = await t.api.get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.text).toBe('READY');
    t.deps.lifecycle.draining = true;
    try {
      const draining = await t.api.get('/ready');
      expect(draining.status).toBe(503);
      expect(draining.text).toBe('DRAINING');
      expect((await t.api.get('/health')).status).toBe(200);
    } finally {
      t.deps.lifecycle.draining = false;
    }
  });
});

describe('graceful shutdown on SIGTERM', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    ensureBuilt();
  });
  afterAll(async () => {
    await stopServer(server);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes a request in flight, then exits 0', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-shutdown-'));
    server = await startServer('memory://', dataDir);
    const upload = slowUpload(server.baseUrl, '0/shutdown/a.txt');
    // The server has the request (headers and half the body) before it is told to stop.
    await new Promise((r) => setTimeout(r, 300));
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.proc.exitCode, server.output()).toBeNull();
    upload.finish();
    const res = await upload.answer;
    expect(res.status, res.body).toBe(200);
    expect(fs.readFileSync(path.join(dataDir, 'artifacts', '0', 'shutdown', 'a.txt'), 'utf8')).toBe('helloworld');
    expect(await server.exited, server.output()).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('shutting down: finishing requests in flight');
  }, 120_000);

  it('exits 1 once --shutdown-timeout passes with a request still unfinished', async () => {
    server = await startServer('memory://', dataDir, 60_000, ['--shutdown-timeout', '0.5']);
    const upload = slowUpload(server.baseUrl, '0/shutdown/stalled.txt');
    const settled = upload.answer.catch(() => undefined); // the connection is cut when the process exits
    await new Promise((r) => setTimeout(r, 300));
    server.proc.kill('SIGTERM');
    expect(await server.exited, server.output()).toEqual({ code: 1, signal: null });
    expect(server.output()).toContain('shutdown deadline passed');
    upload.abandon();
    await settled;
  }, 120_000);
});
