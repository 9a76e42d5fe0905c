import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { guard, type Router } from './define.js';

// The web UI: a single-page app built by `vite build` into dist/ui. Hashed assets are cached for a
// year (their names change with their content); index.html is revalidated on every load so a new
// build is picked up. Every other browser navigation (a hash route at `/`, a W&B path such as
// `/alice/mnist/runs/abc`) gets index.html and the app routes on the client.
//
// Under `--ui mlflow`, MLflow's own UI (from the user's Python mlflow, never copied) has `/` and
// `/static-files/`, as `mlflow server` serves it, and Cairn's UI moves to `/cairn/`.
//
// The fallback must never answer an API call: it serves only GET/HEAD requests that ask for HTML,
// on paths outside the API prefixes and not known to any route, so clients keep their JSON 404/405.

const API_PREFIXES = ['/api/', '/ajax-api/', '/graphql', '/files/', '/health', '/ready', '/version', '/openapi.json', '/v1/', '/get-artifact', '/model-versions/'];

const MIME: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/ui under the package root, found by walking up so it works from src/ (tests) and dist/src/. */
export function findUiDir(start = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const ui = path.join(dir, 'dist', 'ui');
      return fs.existsSync(path.join(ui, 'index.html')) ? ui : undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function isApiPath(p: string): boolean {
  return API_PREFIXES.some((prefix) => p === prefix.replace(/\/$/, '') || p.startsWith(prefix));
}

/** Where Cairn's own UI lives when MLflow's UI has `/` (`--ui mlflow`). */
export const CAIRN_UI_MOUNT = '/cairn';

export function uiStaticRoutes(router: Router, uiDir = findUiDir()): void {
  const { app, deps } = router;
  // The app shell and its assets are public, as MLflow's UI is: the data it loads is what is guarded.
  app.on(['GET', 'HEAD'], '*', guard(router, 'public', async (c, next) => {
    const { staticPrefix: prefix, ui, mlflowUi: found } = deps.config;
    const mlflowUi = ui === 'mlflow' ? found : undefined;
    let p = c.req.path;
    if (isApiPath(p) || router.knownPaths.has(p)) return next();
    if (mlflowUi) {
      const served = await mlflowUiResponse(c, mlflowUi.dir, p);
      if (served) return served;
      const query = new URL(c.req.url).search;
      if (p === CAIRN_UI_MOUNT) return c.redirect(`${prefix}${CAIRN_UI_MOUNT}/${query}`, 308);
      if (!p.startsWith(`${CAIRN_UI_MOUNT}/`)) {
        // Other navigations (the W&B run links the wandb client prints) are Cairn UI routes.
        return wantsHtml(c) ? c.redirect(`${prefix}${CAIRN_UI_MOUNT}${p}${query}`, 302) : next();
      }
      p = p.slice(CAIRN_UI_MOUNT.length);
    }
    if (!uiDir) return next();
    const asset = p === '/' ? undefined : staticFile(uiDir, p);
    if (asset) {
      const immutable = p.startsWith('/assets/');
      return fileResponse(c, asset, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    if (!wantsHtml(c)) return next();
    return indexResponse(c, path.join(uiDir, 'index.html'), `${prefix}${mlflowUi ? CAIRN_UI_MOUNT : ''}/`, `${prefix}/`);
  }));
}

const wantsHtml = (c: Context) => (c.req.header('accept') ?? '').includes('text/html');

// MLflow's UI as `mlflow server` serves it (mlflow/server/__init__.py): index.html at `/` only, and
// the build's files under `/static-files/`, cached for four weeks (their names carry content hashes).
async function mlflowUiResponse(c: Context, buildDir: string, p: string): Promise<Response | undefined> {
  if (p === '/') return fileResponse(c, path.join(buildDir, 'index.html'), 'no-cache');
  if (!p.startsWith('/static-files/')) return undefined;
  const file = staticFile(buildDir, p.slice('/static-files'.length));
  return file ? fileResponse(c, file, 'public, max-age=2419200') : undefined;
}

// A file inside uiDir named by the URL path, or undefined (never a path outside uiDir).
function staticFile(uiDir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.resolve(uiDir, '.' + path.posix.normalize(decoded));
  if (!file.startsWith(uiDir + path.sep) || !MIME[path.extname(file)]) return undefined;
  try {
    return fs.statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * index.html with its <base> set to where the app is served (the --static-prefix, plus /cairn under
 * --ui mlflow), so its relative URLs land there, and the API's root (the prefix) in a meta tag.
 */
async function indexResponse(c: Context, file: string, base: string, apiRoot: string): Promise<Response> {
  const html = (await fs.promises.readFile(file, 'utf8')).replace('<base href="/" />', `<base href="${base}" /><meta name="cairn-api-root" content="${apiRoot}" />`);
  const headers = { 'Content-Type': MIME['.html'], 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
  if (c.req.method === 'HEAD') return c.body(null, 200, { ...headers, 'Content-Length': String(Buffer.byteLength(html)) });
  return c.body(html, 200, headers);
}

async function fileResponse(c: Context, file: string, cacheControl: string): Promise<Response> {
  const body = await fs.promises.readFile(file);
  const headers = {
    'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
    'Cache-Control': cacheControl,
    'X-Content-Type-Options': 'nosniff',
  };
  if (c.req.method === 'HEAD') return c.body(null, 200, { ...headers, 'Content-Length': String(body.length) });
  return c.body(new Uint8Array(body), 200, headers);
}
