import { OpenAPIHono } from '@hono/zod-openapi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateMlflowUi, MlflowUiNotFound } from '../../src/cli/mlflow-ui.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import type { Router } from '../../src/routes/define.js';
import { uiStaticRoutes } from '../../src/routes/ui-static.js';

// `cairn server --ui mlflow`: finding the UI build inside a Python mlflow installation, and serving
// it at `/` as `mlflow server` does while Cairn's own UI moves to /cairn/. A fake installation
// stands in for mlflow here; test/ui/mlflow-ui.spec.ts drives the real one in a browser.

let tmp: string;
let sitePackages: string;
let pkg: string;
let build: string;
let cairnUi: string;
let fakePython: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-mlflow-ui-'));
  sitePackages = path.join(tmp, 'site-packages');
  pkg = path.join(sitePackages, 'mlflow');
  build = path.join(pkg, 'server', 'js', 'build');
  fs.mkdirSync(path.join(build, 'static', 'js'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'version.py'), 'import re\n\nVERSION = "3.18.0"\n');
  fs.writeFileSync(path.join(pkg, 'server', '__init__.py'), '');
  fs.writeFileSync(path.join(build, 'index.html'), '<!doctype html><title>MLflow</title><script src="static-files/static/js/main.abc.js"></script>');
  fs.writeFileSync(path.join(build, 'static', 'js', 'main.abc.js'), 'console.log("mlflow")');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret');
  // A stand-in interpreter: prints where "its" mlflow is, as the real one answers the find_spec probe.
  fakePython = path.join(tmp, 'python');
  fs.writeFileSync(fakePython, `#!/bin/sh\necho '${pkg}'\n`, { mode: 0o755 });
  cairnUi = path.join(tmp, 'cairn-ui');
  fs.mkdirSync(path.join(cairnUi, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(cairnUi, 'index.html'), '<!doctype html><head><base href="/" /></head><div id="root"></div>');
  fs.writeFileSync(path.join(cairnUi, 'assets', 'index-1.js'), 'console.log("cairn")');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('locating MLflow\'s UI', () => {
  it('takes the build folder, the mlflow package, its site-packages or a Python that imports it', () => {
    for (const given of [build, pkg, sitePackages, fakePython]) {
      expect(locateMlflowUi(given, {}), given).toEqual({ dir: build, version: '3.18.0' });
    }
  });

  it('asks python3 on PATH when no path is given', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.copyFileSync(fakePython, path.join(bin, 'python3'));
    fs.chmodSync(path.join(bin, 'python3'), 0o755);
    expect(locateMlflowUi(undefined, { PATH: bin }).dir).toBe(build);
  });

  it('refuses a path without a build, and says how to install mlflow when none is found', () => {
    expect(() => locateMlflowUi(path.join(tmp, 'nowhere'), {})).toThrow(/does not exist/);
    expect(() => locateMlflowUi(cairnUi, {})).toThrow(MlflowUiNotFound);
    expect(() => locateMlflowUi(undefined, { PATH: path.join(tmp, 'empty') })).toThrow(/pip install mlflow/);
  });

  it('is chosen with --ui mlflow (or CAIRN_UI), and a wrong value stops start-up', () => {
    const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(['--data-dir', tmp, ...args], env);
    expect(parse([]).ui).toBe('cairn');
    expect(parse([]).mlflowUi).toBeUndefined();
    expect(parse(['--ui', 'mlflow', '--mlflow-ui-path', pkg]).mlflowUi).toEqual({ dir: build, version: '3.18.0' });
    expect(parse([], { CAIRN_UI: 'mlflow', CAIRN_MLFLOW_UI_PATH: sitePackages }).mlflowUi?.dir).toBe(build);
    expect(() => parse(['--ui', 'grafana'])).toThrow(/--ui: expected 'cairn' or 'mlflow'/);
    expect(() => parse(['--mlflow-ui-path', pkg])).toThrow(/for --ui mlflow/);
    expect(() => parse(['--ui', 'mlflow'], { PATH: path.join(tmp, 'empty') })).toThrow(ConfigError);
  });
});

describe('serving MLflow\'s UI', () => {
  const html = { Accept: 'text/html,application/xhtml+xml' };
  const appWith = (staticPrefix: string) => {
    const app = new OpenAPIHono();
    const deps = { config: { staticPrefix, ui: 'mlflow', mlflowUi: { dir: build } } } as unknown as Deps;
    const router: Router = { app, deps, knownPaths: new Set(), guarded: new WeakSet() };
    uiStaticRoutes(router, cairnUi);
    app.notFound((c) => c.json({ error_code: 'ENDPOINT_NOT_FOUND', message: 'none' }, 404));
    return app;
  };

  it("serves MLflow's index.html at / and its files under /static-files/, as mlflow server", async () => {
    const app = appWith('');
    const index = await app.request('/', { headers: html });
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>MLflow</title>');
    const js = await app.request('/static-files/static/js/main.abc.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=2419200');
    expect((await app.request('/static-files/static/js/missing.js')).status).toBe(404);
    for (const p of ['/static-files/../../../../secret.txt', '/static-files/..%2f..%2f..%2f..%2fsecret.txt', '/static-files/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt']) {
      expect((await app.request(p)).status, p).toBe(404);
    }
  });

  it("moves Cairn's UI to /cairn/, its API root staying at the server's root", async () => {
    const app = appWith('');
    const page = await (await app.request('/cairn/', { headers: html })).text();
    expect(page).toContain('<base href="/cairn/" /><meta name="cairn-api-root" content="/" />');
    expect((await app.request('/cairn/assets/index-1.js')).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bare = await app.request('/cairn?x=1', { headers: html });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, '/cairn/?x=1']);
    // The W&B run links the wandb client prints are Cairn UI routes.
    const wandb = await app.request('/alice/mnist/runs/abc', { headers: html });
    expect([wandb.status, wandb.headers.get('location')]).toEqual([302, '/cairn/alice/mnist/runs/abc']);
    expect((await app.request('/alice/mnist', { headers: { Accept: 'application/json' } })).status).toBe(404);
    expect((await app.request('/api/2.0/mlflow/nothing', { headers: html })).status).toBe(404);
  });

  it('keeps every URL under the --static-prefix', async () => {
    const app = appWith('/p');
    expect(await (await app.request('/cairn/', { headers: html })).text()).toContain('<base href="/p/cairn/" /><meta name="cairn-api-root" content="/p/" />');
    expect((await app.request('/alice/mnist', { headers: html })).headers.get('location')).toBe('/p/cairn/alice/mnist');
  });
});
