import { call, createExperiment, createRun, expect, shoot, test, unique } from './fixtures.js';

// The runs table against 30 runs logged through the API: filter (with key completion), quick
// filters, columns, server-side sort, selection, bulk tag/delete/restore, keyboard, URL state.

const N = 30;
let expId: string;
let expName: string;
const runs: { id: string; name: string; loss: number; optimizer: string; user: string; status: 'FINISHED' | 'FAILED' }[] = [];

test.beforeAll(async () => {
  expName = unique('table');
  expId = await createExperiment(expName);
  for (let i = 0; i < N; i++) {
    const r = {
      name: `run-${String(i).padStart(2, '0')}`,
      loss: Math.round(((i * 37) % N) * 1000 / N) / 1000,
      optimizer: i % 3 === 0 ? 'adam' : 'sgd',
      user: i % 2 ? 'alice' : 'bob',
      status: (i % 5 === 0 ? 'FAILED' : 'FINISHED') as 'FINISHED' | 'FAILED',
    };
    const id = await createRun(expId, {
      name: r.name,
      user: r.user,
      status: r.status,
      params: { optimizer: r.optimizer, lr: String(0.001 * (i + 1)) },
      metrics: { loss: r.loss, 'val/acc': 1 - r.loss },
      startTime: Date.now() - (N - i) * 60_000,
      tags: { team: i % 2 ? 'odd' : 'even' },
    });
    runs.push({ id, ...r });
  }
});

test('rows, total, default sort by start time (newest first)', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  await expect(page.getByRole('heading', { name: expName })).toBeVisible();
  await expect(page.getByTestId('run-total')).toHaveText(`${N} runs`);
  await expect(page.getByTestId('run-row').first()).toContainText('run-29');
  await shoot(page, 'runs-table');
});

test('filter with MLflow grammar and key completion; kept in the URL', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  const input = page.getByTestId('filter-input');
  await input.click();
  await input.pressSequentially('params.opt');
  await expect(page.getByTestId('filter-suggestions')).toContainText('params.optimizer');
  await input.press('Enter'); // accepts the completion
  await expect(input).toHaveValue('params.optimizer ');
  await input.pressSequentially("= 'adam' and metrics.loss < 0.5");
  await input.press('Enter');
  const expected = runs.filter((r) => r.optimizer === 'adam' && r.loss < 0.5);
  expect(expected.length).toBeGreaterThan(0);
  await expect(page.getByTestId('run-total')).toHaveText(`${expected.length} runs`);
  await expect(page).toHaveURL(/filter=params\.optimizer/);

  // A reload keeps the view.
  await page.reload();
  await expect(page.getByTestId('filter-input')).toHaveValue("params.optimizer = 'adam' and metrics.loss < 0.5");
  await expect(page.getByTestId('run-total')).toHaveText(`${expected.length} runs`);

  // A bad filter shows the server's message.
  await input.fill('metrics.loss <<< 1');
  await input.press('Enter');
  await expect(page.getByTestId('error-message')).toBeVisible();
});

test('quick filters: state, user and a tag, values listed by the server', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  await page.getByLabel('State').selectOption('FAILED');
  await expect(page.getByTestId('run-total')).toHaveText(`${runs.filter((r) => r.status === 'FAILED').length} runs`);
  await expect(page.getByLabel('User').locator('option')).toHaveText(['Any user', 'alice', 'bob']);
  await page.getByLabel('User').selectOption('alice');
  await expect(page.getByTestId('run-total')).toHaveText(`${runs.filter((r) => r.status === 'FAILED' && r.user === 'alice').length} runs`);
  await expect(page).toHaveURL(/state=FAILED.*user=alice|user=alice.*state=FAILED/);

  // Any tag: its key, then one of its values (system tags such as mlflow.user are not offered).
  await page.getByLabel('State').selectOption('');
  await page.getByLabel('User').selectOption('');
  await expect(page.getByLabel('Tag', { exact: true }).locator('option')).toHaveText(['Any tag', 'team']);
  await page.getByLabel('Tag', { exact: true }).selectOption('team');
  await page.getByLabel('team value').selectOption('even');
  await expect(page.getByTestId('run-total')).toHaveText(`${N / 2} runs`);
  await expect(page).toHaveURL(/tag=team&tagv=even/);
  await page.reload();
  await expect(page.getByLabel('team value')).toHaveValue('even');
  await expect(page.getByTestId('run-total')).toHaveText(`${N / 2} runs`);
});

test('column picker and server-side sort by a metric', async ({ page }) => {
  // Start from a view with one column chosen, then add a metric and a param from the picker.
  await page.goto(`/#/experiments/${expId}?cols=${encodeURIComponent('["attr:status"]')}`);
  await expect(page.getByRole('columnheader', { name: /^loss/ })).toHaveCount(0);
  await page.getByRole('button', { name: /^Columns/ }).click();
  const picker = page.getByRole('dialog', { name: 'Choose columns' });
  await picker.getByLabel('Search columns').fill('loss');
  await picker.getByLabel('loss last', { exact: true }).check();
  await picker.getByLabel('Search columns').fill('optimizer');
  await picker.getByLabel('optimizer', { exact: true }).check();
  await page.getByRole('heading', { name: expName }).click();
  const lossHeader = page.getByRole('columnheader', { name: /^loss/ });
  await expect(lossHeader).toBeVisible();
  await expect(page.getByRole('columnheader', { name: /^optimizer/ })).toBeVisible();

  await lossHeader.getByRole('button').click();
  await expect(lossHeader).toHaveAttribute('aria-sort', 'descending');
  const max = Math.max(...runs.map((r) => r.loss));
  await expect(page.getByTestId('run-row').first().locator('[data-col="metric:loss"]')).toHaveText(String(max));
  await lossHeader.getByRole('button').click();
  await expect(lossHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('run-row').first().locator('[data-col="metric:loss"]')).toHaveText('0');
  await expect(page).toHaveURL(/sort=metrics\.loss/);
  await expect(page).toHaveURL(/cols=/);

  // The shared link shows the same columns and order.
  const url = page.url();
  const other = await page.context().newPage();
  await other.goto(url);
  await expect(other.getByRole('columnheader', { name: /^optimizer/ })).toBeVisible();
  await expect(other.getByRole('columnheader', { name: /^loss/ })).toHaveAttribute('aria-sort', 'ascending');
  await other.close();
});

test('select runs, bulk tag, delete and restore', async ({ page }) => {
  const exp = await createExperiment(unique('bulk'));
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await createRun(exp, { name: `b-${i}`, startTime: Date.now() - (4 - i) * 1000 }));
  await page.goto(`/#/experiments/${exp}`);
  await expect(page.getByTestId('run-row')).toHaveCount(4);
  await page.getByLabel('Select b-3').click();
  await page.getByLabel('Select b-1').click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('bulk-bar')).toContainText('3 selected');

  await page.getByRole('button', { name: 'Add tag' }).click();
  await page.getByRole('dialog').getByLabel('Key').fill('reviewed');
  await page.getByRole('dialog').getByLabel('Value').fill('yes');
  await page.getByRole('dialog').getByRole('button', { name: 'Set tag' }).click();
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);
  for (const [i, id] of ids.entries()) {
    const run = await call<{ run: { data: { tags?: { key: string; value: string }[] } } }>('GET', `runs/get?run_id=${id}`);
    expect(run.run.data.tags?.find((t) => t.key === 'reviewed')?.value).toBe(i >= 1 ? 'yes' : undefined);
  }

  await page.getByLabel('Select b-0').click();
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  await page.getByRole('button', { name: 'Deleted' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await page.getByLabel('Select b-0').click();
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await page.getByRole('button', { name: 'Active' }).click();
  await expect(page.getByTestId('run-row')).toHaveCount(4);
});

test('keyboard: move, select, open', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  await page.getByTestId('runs-grid').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Space');
  await expect(page.getByTestId('bulk-bar')).toContainText('1 selected');
  const second = page.getByTestId('run-row').nth(1);
  await expect(second).toHaveAttribute('aria-selected', 'true');
  const runId = await second.getAttribute('data-run-id');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`#/experiments/${expId}/runs/${runId}`));
  await expect(page.getByTestId('run-page')).toBeVisible();
});

test('compare: selected runs open the compare view', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  await page.getByLabel('Select run-29').click();
  await page.getByLabel('Select run-28').click();
  await page.getByRole('link', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-table')).toContainText('run-29');
  await expect(page.getByTestId('compare-table')).toContainText('run-28');
});

test('group by a param: counts and metric aggregates from the server; a group filters the table', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}`);
  await page.getByLabel('Group by').selectOption('param:optimizer');
  const groups = page.getByTestId('group-row');
  await expect(groups).toHaveCount(2);
  const adam = runs.filter((r) => r.optimizer === 'adam');
  const adamRow = groups.filter({ hasText: 'adam' });
  await expect(adamRow.locator('td').nth(1)).toHaveText(String(adam.length));
  const mean = adam.reduce((s, r) => s + r.loss, 0) / adam.length;
  await expect(adamRow).toContainText(String(Number(mean.toPrecision(5))));
  await shoot(page, 'runs-grouped');
  await adamRow.getByRole('button', { name: 'adam' }).click();
  await expect(page.getByTestId('run-total')).toHaveText(`${adam.length} runs`);
  await expect(page.getByTestId('filter-input')).toHaveValue("params.optimizer = 'adam'");
  await expect(page.getByTestId('groups-table')).toHaveCount(0);
});

test('runs of several experiments in one table, with an experiment column', async ({ page }) => {
  const a = unique('multi-a');
  const b = unique('multi-b');
  const ia = await createExperiment(a);
  const ib = await createExperiment(b);
  await createRun(ia, { name: 'from-a' });
  await createRun(ib, { name: 'from-b' });
  await page.goto(`/#/experiments?q=multi-`);
  await page.getByLabel(`Select ${a}`).check();
  await page.getByLabel(`Select ${b}`).check();
  await page.getByRole('link', { name: 'Runs of 2 experiments' }).click();
  await expect(page.getByTestId('run-total')).toHaveText('2 runs');
  await expect(page.getByRole('columnheader', { name: 'Experiment' })).toBeVisible();
  await expect(page.getByTestId('run-row').filter({ hasText: 'from-a' })).toContainText(a);
  await expect(page.getByTestId('run-row').filter({ hasText: 'from-b' })).toContainText(b);
  // The experiment column sorts on the server (by experiment id): ascending puts a's run first.
  const header = page.getByRole('columnheader', { name: /^Experiment/ });
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByTestId('run-row').first()).toContainText('from-b');
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('run-row').first()).toContainText('from-a');
});

test('W&B quick filters: group and job type', async ({ page }) => {
  const exp = await createExperiment(unique('wb-quick'));
  for (let i = 0; i < 6; i++) {
    await createRun(exp, { name: `w-${i}`, tags: { 'wandb.group': `g${i % 2}`, 'wandb.job_type': i < 4 ? 'train' : 'eval' } });
  }
  await page.goto(`/#/experiments/${exp}`);
  await expect(page.getByTestId('run-total')).toHaveText('6 runs');
  await page.getByLabel('W&B group').selectOption('g1');
  await expect(page.getByTestId('run-total')).toHaveText('3 runs');
  await page.getByLabel('Job type').selectOption('train');
  await expect(page.getByTestId('run-total')).toHaveText('2 runs');
  await expect(page).toHaveURL(/wgroup=g1/);
  await page.reload();
  await expect(page.getByLabel('Job type')).toHaveValue('train');
  await expect(page.getByTestId('run-total')).toHaveText('2 runs');
});

test('server-side sort by Duration: longest or shortest first, runs still running last both ways', async ({ page }) => {
  const exp = await createExperiment(unique('duration'));
  const start = Date.now() - 10 * 3_600_000;
  await createRun(exp, { name: 'd-short', startTime: start, durationMs: 5_000 });
  await createRun(exp, { name: 'd-long', startTime: start + 1, durationMs: 3 * 3_600_000 });
  await createRun(exp, { name: 'd-mid', startTime: start + 2, durationMs: 90_000 });
  await createRun(exp, { name: 'd-running', startTime: start + 3, status: 'RUNNING' });
  await page.goto(`/#/experiments/${exp}`);
  await expect(page.getByTestId('run-total')).toHaveText('4 runs');
  // The default order (newest start first) is not a duration order, so the sort below is observable.
  await expect(page.getByTestId('run-row').first()).toContainText('d-running');
  const header = page.getByRole('columnheader', { name: /^Duration/ });
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByTestId('run-row').nth(0)).toContainText('d-long');
  await expect(page.getByTestId('run-row').nth(1)).toContainText('d-mid');
  await expect(page.getByTestId('run-row').nth(2)).toContainText('d-short');
  await expect(page.getByTestId('run-row').nth(3)).toContainText('d-running');
  await expect(page).toHaveURL(/sort=attributes\.duration/);
  await header.getByRole('button').click();
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('run-row').nth(0)).toContainText('d-short');
  await expect(page.getByTestId('run-row').nth(1)).toContainText('d-mid');
  await expect(page.getByTestId('run-row').nth(2)).toContainText('d-long');
  await expect(page.getByTestId('run-row').nth(3)).toContainText('d-running');
  // Kept in the URL: a reload shows the same order.
  await page.reload();
  await expect(page.getByTestId('run-row').nth(0)).toContainText('d-short');
  await expect(page.getByRole('columnheader', { name: /^Duration/ })).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('run-row').nth(3)).toContainText('d-running');
});
