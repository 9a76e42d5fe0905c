import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect, freePort, test } from './fixtures.js';

// The UI with accounts on (--app-name basic-auth): the shell loads for anyone, the data only for a
// signed-in user (HTTP Basic, as MLflow's basic-auth UI: the browser asks once and resends), and each
// user sees only the experiments they may read. Its own Cairn, since the shared one runs without auth.

const root = path.resolve(import.meta.dirname, '../..');
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const BOB = { username: 'bob', password: 'bob-password-123' };

const basic = (u: { username: string; password: string }) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;

let server: ChildProcess | undefined;
let url = '';

async function api(as: typeof ADMIN, method: string, apiPath: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/2.0/mlflow/${apiPath}`, {
    method,
    headers: { Authorization: basic(as), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${apiPath} as ${as.username}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(
    process.execPath,
    ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', 'memory://', '--workers', '1',
      '--app-name', 'basic-auth', '--auth-default-permission', 'NO_PERMISSIONS'],
    { cwd: root, stdio: 'ignore', env: { ...process.env, MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN.password } },
  );
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 400 || server.exitCode !== null) throw new Error(`auth-enabled Cairn did not start (exit ${server.exitCode})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await api(ADMIN, 'POST', 'users/create', BOB);
  await api(ADMIN, 'POST', 'experiments/create', { name: 'admins-only-secret' });
  await api(BOB, 'POST', 'experiments/create', { name: 'bobs-experiment' });
});

test.afterAll(() => {
  server?.kill('SIGTERM');
});

// Without credentials the browser is asked for them (a Basic challenge, as MLflow's basic-auth server
// does): headless chromium has nobody to answer the prompt, so the test checks the two halves.
test('without credentials the shell loads, and the API asks the browser to sign in', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/#/experiments`);
  await expect(page.getByRole('heading', { name: 'Experiments' })).toBeVisible();
  await expect(page.getByText('admins-only-secret')).toHaveCount(0);
  await context.close();
  const refused = await fetch(`${url}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
  expect((await refused.json()).error_code).toBe('UNAUTHENTICATED');
});

test('a signed-in user sees only the experiments they may read', async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: BOB });
  const page = await context.newPage();
  await page.goto(`${url}/#/experiments`);
  await expect(page.getByText('bobs-experiment')).toBeVisible();
  await expect(page.getByText('admins-only-secret')).toHaveCount(0);
  await context.close();
});

test('an admin sees every experiment', async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: ADMIN });
  const page = await context.newPage();
  await page.goto(`${url}/#/experiments`);
  await expect(page.getByText('bobs-experiment')).toBeVisible();
  await expect(page.getByText('admins-only-secret')).toBeVisible();
  await context.close();
});
