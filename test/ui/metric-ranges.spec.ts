import { call, createExperiment, expect, test, unique } from './fixtures.js';
import { logHistory } from './seed.js';

// Min/max metric columns: the picker offers each metric as last, min and max; the table shows the
// least and greatest value of each run's history and sorts on them on the server.

let expId: string;
// Per run: a history whose latest, least and greatest values all rank the runs differently.
const HIST: Record<string, number[]> = {
  'rng-a': [9, 1, 5], // last 5, min 1, max 9
  'rng-b': [3, 4, 2], // last 2, min 2, max 4
  'rng-c': [0.5, 7, 6], // last 6, min 0.5, max 7
};

test.beforeAll(async () => {
  expId = await createExperiment(unique('ranges'));
  let t = Date.now() - 600_000;
  for (const [name, values] of Object.entries(HIST)) {
    const { run } = await call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', { experiment_id: expId, run_name: name, start_time: (t += 1000) });
    await logHistory(run.info.run_id, 'loss', values.length, (i) => values[i], t);
  }
});

const firstName = (page: import('@playwright/test').Page) => page.getByTestId('run-row').first().locator('.rt-name');

test('the picker adds min and max columns; values are the history range; sorting is the server', async ({ page }) => {
  await page.goto(`/#/experiments/${expId}?cols=${encodeURIComponent('["attr:status"]')}`);
  await expect(page.getByTestId('run-total')).toHaveText('3 runs');
  await page.getByRole('button', { name: /^Columns/ }).click();
  const picker = page.getByRole('dialog', { name: 'Choose columns' });
  const row = picker.getByTestId('picker-metric').filter({ hasText: 'loss' });
  await expect(row.getByRole('checkbox')).toHaveCount(3);
  await picker.getByLabel('loss last', { exact: true }).check();
  await picker.getByLabel('loss min', { exact: true }).check();
  await picker.getByLabel('loss max', { exact: true }).check();
  await page.getByRole('heading').first().click();

  const cell = (name: string, col: string) => page.locator(`[data-testid=run-row]:has-text("${name}") [data-col="${col}"]`);
  for (const [name, v] of Object.entries(HIST)) {
    await expect(cell(name, 'metric:loss')).toHaveText(String(v[v.length - 1]));
    await expect(cell(name, 'metric-min:loss')).toHaveText(String(Math.min(...v)));
    await expect(cell(name, 'metric-max:loss')).toHaveText(String(Math.max(...v)));
  }

  // Sorting: each variant orders differently, so the first row tells which one the server used.
  const minHeader = page.getByRole('columnheader', { name: /^loss \(min\)/ });
  await minHeader.getByRole('button').click(); // descending first
  await expect(minHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(firstName(page)).toHaveText('rng-b'); // min 2
  await minHeader.getByRole('button').click();
  await expect(firstName(page)).toHaveText('rng-c'); // min 0.5
  await expect(page).toHaveURL(/sort=min(\(|%28)metrics\.loss(\)|%29)(%20|\+)ASC/);

  const maxHeader = page.getByRole('columnheader', { name: /^loss \(max\)/ });
  await maxHeader.getByRole('button').click();
  await expect(maxHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(firstName(page)).toHaveText('rng-a'); // max 9
  const lastHeader = page.getByRole('columnheader', { name: /^loss$/ });
  await lastHeader.getByRole('button').click();
  await expect(firstName(page)).toHaveText('rng-c'); // last 6

  // The view survives a reload (columns and sort in the URL).
  await maxHeader.getByRole('button').click();
  await page.reload();
  await expect(page.getByRole('columnheader', { name: /^loss \(max\)/ })).toHaveAttribute('aria-sort', 'descending');
  await expect(cell('rng-a', 'metric-max:loss')).toHaveText('9');
  await expect(firstName(page)).toHaveText('rng-a');
});
