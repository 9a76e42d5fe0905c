import { test as base, expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

// Shared by the UI specs: the server's URL as baseURL, a client for seeding data through the real
// HTTP API, and screenshots saved under test-results/screens for a person to look at.

export const serverUrl = () => {
  const url = process.env.CAIRN_UI_URL;
  if (!url) throw new Error('CAIRN_UI_URL is unset: run the UI tests through `npx playwright test`');
  return url;
};

export async function call<T = Record<string, unknown>>(method: string, apiPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${serverUrl()}/api/2.0/mlflow/${apiPath}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** A free loopback port, for the specs that start a Cairn of their own (auth, W&B media). */
export { freePort } from './server.js';

export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

export async function createExperiment(name: string): Promise<string> {
  return (await call<{ experiment_id: string }>('POST', 'experiments/create', { name })).experiment_id;
}

export interface SeedRun {
  name?: string;
  params?: Record<string, string>;
  metrics?: Record<string, number>;
  tags?: Record<string, string>;
  status?: 'FINISHED' | 'FAILED' | 'KILLED' | 'RUNNING';
  user?: string;
  startTime?: number;
  durationMs?: number;
}

export async function createRun(experimentId: string, r: SeedRun): Promise<string> {
  const start = r.startTime ?? Date.now();
  const tags = Object.entries({ ...(r.tags ?? {}), ...(r.user ? { 'mlflow.user': r.user } : {}) }).map(([key, value]) => ({ key, value }));
  const created = await call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
    experiment_id: experimentId,
    run_name: r.name,
    start_time: start,
    user_id: r.user,
    tags,
  });
  const id = created.run.info.run_id;
  await call('POST', 'runs/log-batch', {
    run_id: id,
    params: Object.entries(r.params ?? {}).map(([key, value]) => ({ key, value })),
    metrics: Object.entries(r.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: start, step: 0 })),
  });
  if (r.status !== 'RUNNING') await call('POST', 'runs/update', { run_id: id, status: r.status ?? 'FINISHED', end_time: start + (r.durationMs ?? 60_000) });
  return id;
}

export async function shoot(page: Page, name: string) {
  const dir = path.resolve(import.meta.dirname, '../../test-results/screens');
  fs.mkdirSync(dir, { recursive: true });
  // Through the toggle, as a user would, so the page and its toggle agree.
  for (const theme of ['dark', 'light'] as const) {
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) await page.getByRole('button', { name: /Switch to/ }).click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(dir, `${name}-${theme}.png`) });
  }
}

export const test = base.extend({
  baseURL: async ({}, use) => use(serverUrl()),
});
export { expect };
