import { call, createExperiment, expect, test, unique } from './fixtures.js';

// Virtualization: with 1,000 runs and 80 param columns only the visible rows and columns are in the
// DOM, pages load by offset as the user scrolls or jumps, and the last run is reachable.

const N = 1000;
const PARAMS = 80;
let expId: string;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  expId = await createExperiment(unique('scale'));
  const start = Date.now() - N * 1000;
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const created = await call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
        experiment_id: expId,
        run_name: `scale-${String(i).padStart(4, '0')}`,
        start_time: start + i * 1000,
      });
      await call('POST', 'runs/log-batch', {
        run_id: created.run.info.run_id,
        metrics: [{ key: 'score', value: i, timestamp: start, step: 0 }],
        params: i < 3 ? Array.from({ length: PARAMS }, (_, p) => ({ key: `p${String(p).padStart(2, '0')}`, value: String(p) })) : [],
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
});

test('rows and columns are virtualized; scrolling and sorting reach any run', async ({ page }) => {
  const cols = JSON.stringify(['attr:status', 'metric:score', ...Array.from({ length: PARAMS }, (_, p) => `param:p${String(p).padStart(2, '0')}`)]);
  await page.goto(`/#/experiments/${expId}?cols=${encodeURIComponent(cols)}`);
  await expect(page.getByTestId('run-total')).toHaveText(`${N.toLocaleString('en-US')} runs`);
  await expect(page.getByTestId('run-row').first()).toContainText('scale-0999');
  const domRows = await page.getByTestId('run-row').count();
  expect(domRows).toBeGreaterThan(10);
  expect(domRows).toBeLessThan(80);
  const headerCells = await page.locator('[role=columnheader][data-col]').count();
  expect(headerCells).toBeLessThan(PARAMS / 2);

  // Jump to the end: the last page is fetched by offset, not by reading every page before it.
  const grid = page.getByTestId('runs-grid');
  await grid.focus();
  await page.keyboard.press('End');
  await expect(page.locator('[data-testid=run-row]', { hasText: 'scale-0000' })).toBeVisible();
  expect(await page.getByTestId('run-row').count()).toBeLessThan(80);

  // Scroll right: later param columns replace earlier ones in the DOM.
  await grid.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await expect(page.locator('[role=columnheader][data-col="param:p79"]')).toBeVisible();
  await expect(page.locator('[role=columnheader][data-col="param:p00"]')).toHaveCount(0);

  // Server-side sort on the metric, ascending: scale-0000 first.
  await grid.evaluate((el) => {
    el.scrollLeft = 0;
    el.scrollTop = 0;
  });
  const score = page.getByRole('columnheader', { name: /^score/ });
  await score.getByRole('button').click();
  await score.getByRole('button').click();
  await expect(score).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('run-row').first()).toContainText('scale-0000');
});
