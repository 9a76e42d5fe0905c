import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowRestClient } from '../../src/importers/mlflow/rest-client.js';
import { SourceError } from '../../src/importers/mlflow/source.js';

// A server that drops the connection of the first two requests to each path (as a busy one-worker
// `mlflow server` sometimes does mid-import), then answers.
let server: http.Server;
let url: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url!.split('?')[0];
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (n <= 2) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('MlflowRestClient on a dropped connection', () => {
  it('sends a read again', async () => {
    const c = new MlflowRestClient(url);
    expect(await c.call('/api/2.0/mlflow/metrics/get-history', { query: { run_id: 'r', metric_key: 'm' } })).toEqual({ ok: true });
    expect(hits.get('/api/2.0/mlflow/metrics/get-history')).toBe(3);
    expect(await c.call('/api/2.0/mlflow/runs/search', { method: 'POST', body: { experiment_ids: ['1'] } })).toEqual({ ok: true });
    expect(hits.get('/api/2.0/mlflow/runs/search')).toBe(3);
  });

  it('does not send a write again: it may have been applied', async () => {
    const c = new MlflowRestClient(url);
    await expect(c.call('/api/2.0/mlflow/runs/create', { method: 'POST', body: { experiment_id: '1' } })).rejects.toBeInstanceOf(SourceError);
    expect(hits.get('/api/2.0/mlflow/runs/create')).toBe(1);
  });
});
