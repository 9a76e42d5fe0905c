import { OpenAPIHono } from '@hono/zod-openapi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.js';
import type { Router } from '../../src/routes/define.js';
import { isApiPath, uiStaticRoutes } from '../../src/routes/ui-static.js';

// Serving the built UI: cache headers, the SPA fallback only for browser navigations off the API,
// and no file outside the UI folder. (test/ui drives the same code in a browser on the real build.)

let dir: string;
let app: OpenAPIHono;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-static-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><head><base href="/" /></head><div id="root"></div>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
  fs.writeFileSync(path.join(os.tmpdir(), 'cairn-ui-static-secret.txt'), 'secret');
  app = new OpenAPIHono();
  const router: Router = { app, deps: { config: { staticPrefix: '' } } as Deps, knownPaths: new Set(['/api/2.0/mlflow/runs/create']), guarded: new WeakSet() };
  app.post('/api/2.0/mlflow/runs/create', (c) => c.json({ ok: true }));
  uiStaticRoutes(router, dir);
  app.notFound((c) => c.json({ error_code: 'ENDPOINT_NOT_FOUND', message: 'none' }, 404));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), 'cairn-ui-static-secret.txt'), { force: true });
});

const html = { Accept: 'text/html,application/xhtml+xml' };

describe('ui-static', () => {
  it('writes the --static-prefix into index.html\'s <base>, so the app and its assets load under it', async () => {
    const prefixed = new OpenAPIHono();
    uiStaticRoutes({ app: prefixed, deps: { config: { staticPrefix: '/mlflow' } } as Deps, knownPaths: new Set(), guarded: new WeakSet() }, dir);
    for (const p of ['/', '/alice/mnist/runs/abc']) {
      const page = await (await prefixed.request(p, { headers: html })).text();
      expect(page).toContain('<base href="/mlflow/" />');
    }
    expect(await (await app.request('/', { headers: html })).text()).toContain('<base href="/" />');
  });

  it('serves index.html at / and on browser navigations, revalidated every time', async () => {
    for (const p of ['/', '/alice/mnist', '/alice/mnist/runs/abc']) {
      const res = await app.request(p, { headers: html });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('id="root"');
    }
  });

  it('serves hashed assets as immutable and other files as no-cache', async () => {
    const js = await app.request('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const icon = await app.request('/favicon.svg');
    expect(icon.headers.get('cache-control')).toBe('no-cache');
    const head = await app.request('/', { method: 'HEAD', headers: html });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('leaves API paths and non-browser requests to the API (JSON 404, routes untouched)', async () => {
    const api = await app.request('/api/2.0/mlflow/nothing', { headers: html });
    expect(api.status).toBe(404);
    expect((await api.json()).error_code).toBe('ENDPOINT_NOT_FOUND');
    const json = await app.request('/alice/mnist', { headers: { Accept: 'application/json' } });
    expect(json.status).toBe(404);
    const post = await app.request('/alice/mnist', { method: 'POST', headers: html });
    expect(post.status).toBe(404);
    const known = await app.request('/api/2.0/mlflow/runs/create', { method: 'POST' });
    expect(await known.json()).toEqual({ ok: true });
    expect(isApiPath('/graphql')).toBe(true);
    expect(isApiPath('/files/a/b/c/file_stream')).toBe(true);
    expect(isApiPath('/alice/mnist')).toBe(false);
  });

  it('never serves a file outside the UI folder', async () => {
    for (const p of ['/../cairn-ui-static-secret.txt', '/assets/..%2f..%2fcairn-ui-static-secret.txt', '/%2e%2e/cairn-ui-static-secret.txt']) {
      const res = await app.request(p);
      expect(res.status, p).toBe(404);
    }
    const missing = await app.request('/assets/nope.js');
    expect(missing.status).toBe(404);
  });
});
