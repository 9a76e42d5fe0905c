import { call, createExperiment, createRun, expect, shoot, test, unique } from './fixtures.js';
import { logHistory, putArtifact, tinyPng } from './seed.js';

// The run page on a run logged through MLflow's REST API: overview, notes and tags edited in the
// browser, params tree, charts (zoom re-queries the server), system metrics, console output and
// the artifact browser with its previews.

const MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.9
mlflow_version: 3.18.0
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "double", "name": "petal_width", "required": true}]'
  outputs: '[{"type": "long", "name": "species", "required": true}]'
  params: null
`;

async function seedRun() {
  const exp = await createExperiment(unique('runpage'));
  const start = Date.now() - 3_600_000;
  const parent = await createRun(exp, { name: 'sweep-parent', user: 'alice', startTime: start - 1000 });
  const id = await createRun(exp, {
    name: 'resnet-lr3e-4',
    user: 'alice',
    startTime: start,
    status: 'RUNNING',
    params: { 'optimizer.lr': '0.0003', 'optimizer.name': 'adam', 'model/depth': '50', 'model/width': '64', epochs: '20' },
    tags: {
      'mlflow.parentRunId': parent,
      'mlflow.source.name': 'train.py',
      'mlflow.source.git.commit': '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39',
      team: 'vision',
    },
  });
  const child = await createRun(exp, { name: 'eval-child', tags: { 'mlflow.parentRunId': id }, startTime: start + 1000 });
  await Promise.all([
    logHistory(id, 'train/loss', 3000, (i) => 2.5 * Math.exp(-i / 700) + 0.05 * Math.sin(i / 7) + (i === 1500 ? 4 : 0), start),
    logHistory(id, 'train/accuracy', 3000, (i) => 1 - Math.exp(-i / 900), start),
    logHistory(id, 'train/learning_rate', 3000, (i) => 3e-4 * 0.5 * (1 + Math.cos((Math.PI * i) / 3000)), start),
    logHistory(id, 'train/grad_norm', 3000, (i) => 1.5 * Math.exp(-i / 1200) + 0.3 + 0.25 * Math.abs(Math.sin(i * 12.9898) * 43758.5453 % 1), start),
    logHistory(id, 'val/loss', 30, (i) => 2.4 * Math.exp(-i / 8) + 0.1, start),
    logHistory(id, 'val/accuracy', 30, (i) => 0.93 * (1 - Math.exp(-i / 6)), start),
    logHistory(id, 'system/cpu_utilization_percentage', 120, (i) => 40 + 20 * Math.sin(i / 10), start),
    logHistory(id, 'system/system_memory_usage_megabytes', 120, (i) => 2000 + i * 3, start),
  ]);
  await call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: start + 30 * 60_000 });
  await putArtifact(id, 'model/MLmodel', MLMODEL);
  await putArtifact(id, 'model/requirements.txt', 'scikit-learn==1.5.0\nnumpy\n');
  await putArtifact(id, 'metrics.json', JSON.stringify({ auc: 0.97, f1: 0.91, classes: ['a', 'b'] }));
  await putArtifact(id, 'predictions.csv', 'id,label,score\n1,cat,0.91\n2,dog,0.42\n3,"bird, small",0.77\n');
  await putArtifact(id, 'plots/confusion.png', tinyPng());
  await putArtifact(id, 'output.log', 'epoch 1 loss=2.31\nepoch 2 loss=1.72\nTraining done\n');
  return { exp, id, parent, child };
}

test('run page: overview, notes, tags, params tree, lineage', async ({ page }) => {
  const { exp, id, parent } = await seedRun();
  await page.goto(`/#/experiments/${exp}/runs/${id}?tab=overview`);
  await expect(page.getByTestId('run-name')).toHaveText('resnet-lr3e-4');
  const details = page.getByTestId('run-details');
  await expect(details).toContainText('alice');
  await expect(details).toContainText('train.py');
  await expect(page.getByTestId('git-commit')).toContainText('3f2a9c1d8e7b');
  await expect(details).toContainText('30m 0s');
  await expect(page.getByTestId('parent-run')).toContainText('sweep-parent');
  await expect(page.getByTestId('child-runs')).toContainText('eval-child');

  // Params: nested keys as a tree, collapsible, filterable.
  await expect(page.getByTestId('param-group').filter({ hasText: 'optimizer' })).toBeVisible();
  await expect(page.locator('[data-testid=param-row][data-key="optimizer.lr"]')).toContainText('0.0003');
  await page.getByRole('button', { name: 'Collapse optimizer' }).click();
  await expect(page.locator('[data-testid=param-row][data-key="optimizer.lr"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Expand optimizer' }).click();
  await page.getByLabel('Filter parameters').fill('depth');
  await expect(page.getByTestId('param-row')).toHaveCount(1);
  await page.getByLabel('Filter parameters').fill('');

  // Notes: saved as mlflow.note.content.
  await page.getByRole('button', { name: 'Add notes' }).click();
  await page.getByLabel('Notes').fill('Baseline with cosine schedule.\nBest so far.');
  await page.getByRole('button', { name: 'Save notes' }).click();
  await expect(page.getByTestId('run-notes')).toContainText('Baseline with cosine schedule.');
  const afterNote = await call<{ run: { data: { tags: { key: string; value: string }[] } } }>('GET', `runs/get?run_id=${id}`);
  expect(afterNote.run.data.tags.find((t) => t.key === 'mlflow.note.content')?.value).toBe('Baseline with cosine schedule.\nBest so far.');

  // Tags: add, edit, remove.
  await page.getByLabel('New tag key').fill('stage');
  await page.getByLabel('New tag value').fill('candidate');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.locator('[data-testid=tag][data-key=stage]')).toContainText('candidate');
  await page.locator('[data-testid=tag][data-key=stage]').getByTitle('Edit value').click();
  await page.getByLabel('Value of stage').fill('production');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('[data-testid=tag][data-key=stage]')).toContainText('production');
  await page.getByRole('button', { name: 'Remove tag team' }).click();
  await expect(page.locator('[data-testid=tag][data-key=team]')).toHaveCount(0);
  const afterTags = await call<{ run: { data: { tags: { key: string; value: string }[] } } }>('GET', `runs/get?run_id=${id}`);
  const tags = Object.fromEntries(afterTags.run.data.tags.map((t) => [t.key, t.value]));
  expect(tags.stage).toBe('production');
  expect(tags.team).toBeUndefined();
  await shoot(page, 'run-overview');

  // Parent link lands on the parent run.
  await page.getByTestId('parent-run').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${parent}`));
  await expect(page.getByTestId('run-name')).toHaveText('sweep-parent');
});

test('run page: charts, zoom refines from the server, settings in the URL, system metrics', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const { exp, id } = await seedRun();
  await page.goto(`/#/experiments/${exp}/runs/${id}`);
  // Charts is the default tab of a run with metrics, grouped by prefix.
  const loss = page.locator('[data-testid=metric-chart][data-key="train/loss"]');
  await expect(loss).toHaveAttribute('data-total-points', '3000');
  await expect(loss.locator('canvas')).toBeVisible();
  await expect(page.getByRole('button', { name: /^▸ train/ })).toBeVisible();
  await expect(page.getByRole('button', { name: /^▸ val/ })).toBeVisible();
  // System metrics are not among the charts but in their own tab.
  await expect(page.locator('[data-testid=metric-chart][data-key^="system/"]')).toHaveCount(0);
  const drawnBefore = Number(await loss.getAttribute('data-drawn-points'));
  expect(drawnBefore).toBeLessThan(3000);

  // Drag to zoom: the chart asks the server for the range and gets finer points.
  const box = (await loss.locator('.u-over').boundingBox())!;
  const seriesCalls: unknown[] = [];
  page.on('request', (r) => r.url().includes('/cairn/ui/metrics/series') && seriesCalls.push(r.postDataJSON()));
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(loss).toHaveAttribute('data-zoomed', '1');
  await expect.poll(() => seriesCalls.some((c) => (c as { x_min?: number }).x_min !== undefined)).toBe(true);
  await expect(loss.getByRole('button', { name: 'Reset zoom' })).toBeVisible();
  await loss.getByRole('button', { name: 'Reset zoom' }).click();
  await expect(loss).toHaveAttribute('data-zoomed', '0');

  // Shared settings live in the URL.
  await page.getByRole('button', { name: 'Relative' }).click();
  await page.getByLabel('Log scale').check();
  await page.getByLabel('Smoothing').fill('0.6');
  await expect(page).toHaveURL(/x=relative/);
  await expect(page).toHaveURL(/log=1/);
  await expect(page).toHaveURL(/smooth=0.6/);
  await expect(loss.locator('canvas')).toBeVisible();
  await page.getByRole('button', { name: 'Step' }).click();
  await page.getByLabel('Log scale').uncheck();
  await page.getByLabel('Filter metrics').fill('train/acc');
  await expect(page.getByTestId('metric-chart')).toHaveCount(1);
  await page.getByLabel('Filter metrics').fill('');
  // Every chart remounts and asks again; under CI's parallel lanes one series call took 7.5 s.
  await expect(page.locator('[data-testid=metric-chart][data-key="val/loss"]')).toHaveAttribute('data-total-points', '30', { timeout: 30_000 });
  await page.getByLabel('Smoothing').fill('0');
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await shoot(page, 'run-charts');

  expect(errors).toEqual([]);

  await page.getByRole('link', { name: /^System/ }).click();
  await expect(page.getByTestId('metric-chart')).toHaveCount(2);
  await expect(page.locator('[data-testid=metric-chart][data-key="system/cpu_utilization_percentage"]')).toHaveAttribute('data-total-points', '120');
});

test('run page: console output and artifact browser previews', async ({ page }) => {
  const { exp, id } = await seedRun();
  await page.goto(`/#/experiments/${exp}/runs/${id}?tab=logs`);
  await expect(page.getByTestId('console-output')).toContainText('Training done');

  await page.getByRole('link', { name: 'Artifacts' }).click();
  const files = page.getByTestId('artifact-file');
  await expect(page.locator('[data-testid=artifact-dir][data-path=model]')).toBeVisible();
  await expect(page.locator('[data-testid=artifact-file][data-path="metrics.json"]')).toContainText('B');

  await page.locator('[data-testid=artifact-file][data-path="metrics.json"]').click();
  await expect(page.getByTestId('artifact-preview')).toHaveAttribute('data-kind', 'json');
  await expect(page.getByTestId('artifact-preview')).toContainText('"auc": 0.97');
  const download = page.getByRole('link', { name: 'Download' });
  const res = await page.request.get(await download.getAttribute('href') as string);
  expect(await res.json()).toEqual({ auc: 0.97, f1: 0.91, classes: ['a', 'b'] });

  await page.locator('[data-testid=artifact-file][data-path="predictions.csv"]').click();
  await expect(page.getByTestId('artifact-preview')).toHaveAttribute('data-kind', 'csv');
  await expect(page.getByTestId('artifact-preview').locator('tbody tr')).toHaveCount(3);
  await expect(page.getByTestId('artifact-preview')).toContainText('bird, small');
  // The grid sorts.
  await page.getByTestId('artifact-preview').getByRole('button', { name: 'score' }).click();
  await expect(page.getByTestId('artifact-preview').locator('tbody tr').first()).toContainText('dog');

  await page.locator('[data-testid=artifact-file][data-path="plots/confusion.png"]').click();
  const img = page.getByTestId('artifact-preview').locator('img');
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(4);

  await page.locator('[data-testid=artifact-file][data-path="model/MLmodel"]').click();
  await expect(page.getByTestId('artifact-preview')).toHaveAttribute('data-kind', 'mlmodel');
  const sig = page.getByTestId('model-signature');
  await expect(sig).toContainText('sepal_length');
  await expect(sig).toContainText('petal_width');
  await expect(sig).toContainText('species');
  await expect(sig).toContainText('long');
  await shoot(page, 'run-artifacts');
  await expect(files).not.toHaveCount(0);
});

test('run page: a running run updates its charts and console live', async ({ page }) => {
  const exp = await createExperiment(unique('live'));
  const id = await createRun(exp, { name: 'live-run', status: 'RUNNING' });
  await logHistory(id, 'loss', 50, (i) => 1 / (i + 1));
  await putArtifact(id, 'output.log', 'step 0\n');
  await page.goto(`/#/experiments/${exp}/runs/${id}`);
  const chart = page.locator('[data-testid=metric-chart][data-key=loss]');
  await expect(chart).toHaveAttribute('data-total-points', '50');
  await expect(chart.locator('.live-dot')).toBeVisible();
  await call('POST', 'runs/log-batch', { run_id: id, metrics: Array.from({ length: 25 }, (_, k) => ({ key: 'loss', value: 0.01, timestamp: Date.now(), step: 50 + k })) });
  await expect(chart).toHaveAttribute('data-total-points', '75', { timeout: 20_000 });

  await page.getByRole('link', { name: 'Logs' }).click();
  await expect(page.getByTestId('console-output')).toContainText('step 0');
  await putArtifact(id, 'output.log', 'step 0\nstep 1 appended\n');
  await expect(page.getByTestId('console-output')).toContainText('step 1 appended', { timeout: 20_000 });
});

test('run page: a running run whose series answer slower than the poll interval still draws', async ({ page }) => {
  // The store is slow (as embedded PGlite is with 20 x 100,000 points): every series answer takes
  // longer than the 5 s live poll. Polls used to overlap and each superseded the load before it, so
  // the chart never drew. The requests go to the real server; only their answers are held back.
  const exp = await createExperiment(unique('slow-live'));
  const id = await createRun(exp, { name: 'slow-live-run', status: 'RUNNING' });
  await logHistory(id, 'loss', 40, (i) => 1 / (i + 1));
  let inFlight = 0;
  let maxInFlight = 0;
  await page.route('**/cairn/ui/metrics/series', async (route) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const res = await route.fetch();
    await new Promise((r) => setTimeout(r, 6_000));
    inFlight--;
    await route.fulfill({ response: res });
  });
  await page.goto(`/#/experiments/${exp}/runs/${id}`);
  await expect(page.locator('[data-testid=metric-chart][data-key=loss]')).toHaveAttribute('data-total-points', '40', { timeout: 30_000 });
  // One chart on the page: never two of its loads at once.
  expect(maxInFlight).toBe(1);
});

test('run page: an unknown run shows the API error', async ({ page }) => {
  await page.goto('/#/experiments/0/runs/0123456789abcdef0123456789abcdef');
  await expect(page.getByTestId('error-message')).toContainText('0123456789abcdef0123456789abcdef');
});

test('run page fits a laptop window on every tab (no page-level horizontal scroll)', async ({ page }) => {
  const { exp, id } = await seedRun();
  await page.setViewportSize({ width: 1280, height: 720 });
  for (const tab of ['overview', 'charts', 'system', 'media', 'logs', 'artifacts']) {
    await page.goto(`/#/experiments/${exp}/runs/${id}?tab=${tab}`);
    await expect(page.getByTestId('run-name')).toHaveText('resnet-lr3e-4');
    await expect(page.locator('.tab-body')).not.toBeEmpty();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), tab).toBeLessThanOrEqual(0);
    expect(await page.evaluate(() => document.querySelector('.main')!.scrollWidth - document.querySelector('.main')!.clientWidth), tab).toBeLessThanOrEqual(0);
  }
});
