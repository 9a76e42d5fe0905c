import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect, test } from './fixtures.js';
import { copyOnPglite, copyOnPostgres, copySql, logTemplates, runName, type Template } from './many-runs.js';
import { startCairn, type RunningCairn } from './server.js';
import { dropDatabase } from '../harness/drop-database.js';

// The runs table at 100,000 runs: the first rows are drawn, scrolling to the end shows the last
// runs, a sort on a column and a filter are answered, and the DOM holds only what is on screen.
// Its own Cairn: on a fresh database of TEST_DATABASE_URL's server when set (as in CI), else on an
// embedded store. 100 template runs are logged through the API and copied in SQL (many-runs.ts):
// about 2 minutes in all on Postgres with the shared 2-core machine at load 20, ~7 on the embedded
// store (one writer, and its server restarted around the copy).

const N = 100_000;
const T = 100;
const BASE = Date.UTC(2026, 0, 1);
const templates: Template[] = Array.from({ length: T }, (_, i) => ({
  status: i % 10 === 0 ? 'FAILED' : 'FINISHED',
  user: ['alice', 'bob', 'carol'][i % 3],
  params: { lr: String(10 ** -(1 + (i % 4))), optimizer: i % 2 ? 'adam' : 'sgd' },
  // last i/100, min i/100, max 1 + i/100
  metrics: { loss: [1 + i / 100, i / 100], acc: [1 - i / 100] },
  tags: { team: `t${i % 5}` },
}));

let cairn: RunningCairn;
let cleanup: () => Promise<void>;
let expId: string;

test.beforeAll(async () => {
  test.setTimeout(600_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-100k-'));
  const admin = process.env.TEST_DATABASE_URL;
  let store: string;
  if (admin) {
    const name = `cairn_ui_100k_${process.pid}_${Date.now().toString(36)}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`create database ${name}`);
    await c.end();
    const url = new URL(admin);
    url.pathname = `/${name}`;
    store = url.toString();
    cleanup = async () => {
      await dropDatabase(admin, name);
      fs.rmSync(dir, { recursive: true, force: true });
    };
  } else {
    store = `pglite://${path.join(dir, 'db')}`;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const args = ['--backend-store-uri', store, '--data-dir', dir];
  cairn = await startCairn(args);
  const call = async <R>(apiPath: string, body: unknown): Promise<R> => {
    const res = await fetch(`${cairn.url}/api/2.0/mlflow/${apiPath}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${apiPath}: ${res.status} ${text}`);
    return JSON.parse(text) as R;
  };
  expId = (await call<{ experiment_id: string }>('experiments/create', { name: 'hundred-thousand' })).experiment_id;
  await logTemplates(call, expId, templates, BASE);
  const statements = copySql(expId, T, N, BASE);
  if (admin) {
    await copyOnPostgres(store, statements);
  } else {
    await cairn.stop();
    await copyOnPglite(path.join(dir, 'db'), statements);
    cairn = await startCairn(args);
  }
});

test.afterAll(async () => {
  await cairn?.stop();
  await cleanup?.();
});

test('100,000 runs: first rows, scroll to the end, sort and filter on the server', async ({ page }) => {
  test.setTimeout(180_000);
  const cols = ['attr:status', 'attr:user_id', 'attr:start_time', 'metric:loss', 'metric-min:loss', 'metric-max:loss', 'metric:acc', 'param:lr', 'param:optimizer', 'tag:team'];
  await page.goto(`${cairn.url}/#/experiments/${expId}?cols=${encodeURIComponent(JSON.stringify(cols))}`);
  // The count is the server's, not the number of rows loaded.
  await expect(page.getByTestId('run-total')).toHaveText('100,000 runs', { timeout: 60_000 });
  const rows = page.getByTestId('run-row');
  await expect(rows.first().locator('.rt-name')).toHaveText(runName(N - 1));
  await expect(rows.first().locator('[data-col="metric-max:loss"]')).toHaveText(String(1 + ((N - 1) % T) / 100));
  // Virtualized: a screenful of rows in the DOM, not 100,000.
  expect(await rows.count()).toBeLessThan(80);

  // Scroll to the end: the oldest runs, fetched by offset.
  const grid = page.getByTestId('runs-grid');
  await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('[data-testid=run-row]', { hasText: runName(0) })).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-testid=run-row]', { hasText: runName(1) })).toBeVisible();
  expect(await page.getByTestId('run-row').count()).toBeLessThan(80);
  // And into the middle by keyboard: PageUp moves from the last row.
  await grid.focus();
  await page.keyboard.press('End');
  await page.keyboard.press('PageUp');
  await expect(page.locator('.rt-row.active')).toBeVisible();

  // Sort by the greatest loss, descending: template 99's runs first (max 1.99), newest first.
  await grid.evaluate((el) => (el.scrollTop = 0));
  const maxHeader = page.getByRole('columnheader', { name: /^loss \(max\)/ });
  await maxHeader.getByRole('button').click();
  await expect(maxHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(rows.first().locator('.rt-name')).toHaveText(runName(N - 1), { timeout: 60_000 });
  await expect(rows.nth(1).locator('.rt-name')).toHaveText(runName(N - 1 - T), { timeout: 60_000 });
  // Ascending: template 0 (max 1), newest first.
  await maxHeader.getByRole('button').click();
  await expect(maxHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(rows.first().locator('.rt-name')).toHaveText(runName(N - T), { timeout: 60_000 });

  // A filter in MLflow's grammar: odd templates (adam) with loss < 0.1: templates 1, 3, 5, 7, 9.
  const input = page.getByTestId('filter-input');
  await input.fill("params.optimizer = 'adam' and metrics.loss < 0.1");
  await input.press('Escape');
  await input.press('Enter');
  await expect(page.getByTestId('run-total')).toHaveText('5,000 runs', { timeout: 60_000 });
  await expect(rows.first().locator('.rt-name')).toHaveText(runName(N - T + 1)); // max ascending: template 1
  // A quick filter on top: none of the odd templates failed.
  await page.getByLabel('State').selectOption('FAILED');
  await expect(page.getByText('No run matches')).toBeVisible({ timeout: 60_000 });
  // The quick filter alone: every tenth template failed.
  await input.fill('');
  await input.press('Enter');
  await expect(page.getByTestId('run-total')).toHaveText('10,000 runs', { timeout: 60_000 });
});
