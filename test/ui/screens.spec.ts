import fs from 'node:fs';
import path from 'node:path';
import { call, createExperiment, createRun, expect, serverUrl, shoot, test } from './fixtures.js';
import { logHistory } from './seed.js';

// Screenshots of the main pages in both themes on realistic data (under test-results/screens; with
// CAIRN_UPDATE_DOCS_IMG=1 the runs table and a run's charts also go to docs/img for the README), and a laptop-sized
// window showing every page without horizontal scrolling of the page itself.

const EXP = 'resnet-cifar10';

test.beforeAll(async () => {
  // Once per server (a retried worker runs this again).
  const existing = await fetch(`${serverUrl()}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${EXP}`);
  if (existing.ok) return;
  const id = await createExperiment(EXP);
  const models = ['resnet18', 'resnet34', 'resnet50'];
  const opts = ['adamw', 'sgd'];
  for (let i = 0; i < 36; i++) {
    const lr = [0.1, 0.03, 0.01, 0.003][i % 4];
    const acc = 0.78 + ((i * 7919) % 173) / 1000;
    await createRun(id, {
      name: `${models[i % 3]}-${opts[i % 2]}-lr${lr}-s${i}`,
      user: ['maya', 'li', 'sam'][i % 3],
      status: i === 35 ? 'RUNNING' : i % 11 === 4 ? 'FAILED' : 'FINISHED',
      startTime: Date.now() - (36 - i) * 41 * 60_000,
      durationMs: (28 + ((i * 37) % 13)) * 60_000 + i * 1000,
      params: { model: models[i % 3], optimizer: opts[i % 2], lr: String(lr), batch_size: String([64, 128, 256][i % 3]), epochs: '90' },
      metrics: { val_acc: Number(acc.toFixed(4)), val_loss: Number((1.9 - acc * 1.7).toFixed(4)), train_loss: Number((1.7 - acc * 1.6).toFixed(4)), epoch: 90 },
      tags: { 'wandb.group': `sweep-${1 + (i % 3)}` },
    });
  }
  await call('POST', 'registered-models/create', { name: 'cifar10-classifier', description: 'ResNet image classifier for CIFAR-10' });
});

test('main pages in both themes', async ({ page }) => {
  await page.goto('/#/experiments');
  await expect(page.getByTestId('experiment-row').filter({ hasText: EXP })).toBeVisible();
  await shoot(page, 'experiments-list');

  await page.getByRole('link', { name: EXP }).click();
  await expect(page.getByTestId('run-total')).toHaveText('36 runs');
  await page.getByLabel('Select resnet18-sgd-lr0.03-s33', { exact: true }).check();
  await page.getByTestId('runs-grid').focus();
  await shoot(page, 'runs-table-main');
  if (process.env.CAIRN_UPDATE_DOCS_IMG === '1') {
    const docs = path.resolve(import.meta.dirname, '../../docs/img');
    for (const t of ['dark', 'light']) fs.copyFileSync(path.resolve(import.meta.dirname, `../../test-results/screens/runs-table-main-${t}.png`), path.join(docs, `runs-table-${t}.png`));
  }

  await page.getByLabel('Group by').selectOption('tag:wandb.group');
  await expect(page.getByTestId('group-row')).toHaveCount(3);
  await shoot(page, 'runs-grouped-main');

  await page.goto('/#/models');
  await expect(page.getByTestId('model-row').filter({ hasText: 'cifar10-classifier' })).toBeVisible();
  await shoot(page, 'models-list');
});

test('laptop window: no page-level horizontal scroll', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  for (const route of ['/#/experiments', '/#/models', '/#/prompts', '/#/logged-models']) {
    await page.goto(route);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, route).toBeLessThanOrEqual(0);
  }
  await page.goto('/#/experiments');
  await page.getByRole('link', { name: EXP }).click();
  await expect(page.getByTestId('run-row').first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: 'test-results/screens/runs-table-laptop.png' });
});

test('a run page with training curves (the README picture)', async ({ page }) => {
  test.setTimeout(180_000);
  const exp = await createExperiment(`${EXP}-curves-${Date.now().toString(36)}`);
  const start = Date.now() - 3 * 3600_000;
  const id = await createRun(exp, {
    name: 'resnet50-adamw-lr3e-4',
    user: 'maya',
    startTime: start,
    durationMs: 2 * 3600_000,
    params: { model: 'resnet50', optimizer: 'adamw', lr: '3e-4', batch_size: '256', epochs: '90' },
    tags: { 'mlflow.source.name': 'train.py', 'mlflow.source.git.commit': '3f2a9c1d4be07e1f' },
  });
  const N = 3000;
  const noise = (i: number, k: number) => Math.sin(i * 12.9898 + k * 78.233) * 0.5;
  // One spike in the loss: the server's per-column min/max keeps it visible at any zoom.
  await logHistory(id, 'train/loss', N, (i) => (i === 1500 ? 4.2 : 2.3 * Math.exp(-i / 600) + 0.08 + 0.05 * noise(i, 1)), start);
  await logHistory(id, 'train/accuracy', N, (i) => 0.97 - 0.87 * Math.exp(-i / 700) + 0.01 * noise(i, 2), start);
  await logHistory(id, 'train/grad_norm', N, (i) => 1.9 * Math.exp(-i / 1200) + 0.35 + 0.25 * Math.abs(noise(i, 5)), start);
  await logHistory(id, 'train/learning_rate', N, (i) => 3e-4 * 0.5 * (1 + Math.cos((Math.PI * i) / N)), start);
  await logHistory(id, 'val/loss', N, (i) => 2.2 * Math.exp(-i / 650) + 0.22 + 0.03 * noise(i, 3), start);
  await logHistory(id, 'val/accuracy', N, (i) => 0.93 - 0.83 * Math.exp(-i / 750) + 0.008 * noise(i, 4), start);
  await page.goto(`/#/experiments/${exp}/runs/${id}?tab=charts`);
  // Charts load as they scroll into view: the first screenful (three or more) drawn in full.
  await expect(page.locator(`[data-testid=metric-chart][data-total-points="${N}"]`).nth(2)).toBeVisible({ timeout: 30_000 });
  await shoot(page, 'run-page');
  if (process.env.CAIRN_UPDATE_DOCS_IMG === '1') {
    fs.copyFileSync(path.resolve(import.meta.dirname, '../../test-results/screens/run-page-dark.png'), path.resolve(import.meta.dirname, '../../docs/img/run-page.png'));
  }
});
