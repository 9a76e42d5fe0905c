import { createExperiment, createRun, expect, shoot, test, unique } from './fixtures.js';
import { logHistory } from './seed.js';

// The compare page: params diff (differences highlighted, "only differences"), overlaid charts,
// parallel coordinates and scatter; the selection lives in the URL.

test('compare: params diff, only differences, overlaid charts, parallel coordinates, scatter', async ({ page }) => {
  const exp = await createExperiment(unique('compare'));
  const start = Date.now() - 600_000;
  const specs = [
    { name: 'lr-0.1', lr: '0.1', opt: 'sgd', final: 0.61 },
    { name: 'lr-0.01', lr: '0.01', opt: 'adam', final: 0.34 },
    { name: 'lr-0.001', lr: '0.001', opt: 'adam', final: 0.42 },
  ];
  const ids: string[] = [];
  for (const s of specs) {
    const id = await createRun(exp, { name: s.name, params: { lr: s.lr, optimizer: s.opt, batch_size: '64' }, metrics: { accuracy: 1 - s.final }, startTime: start });
    await logHistory(id, 'loss', 200, (i) => s.final + (2 - s.final) * Math.exp(-i / 30), start);
    ids.push(id);
  }

  await page.goto(`/#/compare?runs=${ids.join(',')}`);
  await expect(page.getByRole('heading', { name: 'Compare 3 runs' })).toBeVisible();
  await expect(page.getByTestId('compare-run')).toHaveCount(3);

  const row = (k: string) => page.locator(`[data-testid=param-diff-row][data-key="${k}"]`);
  await expect(row('lr')).toHaveClass(/diff/);
  await expect(row('optimizer')).toHaveClass(/diff/);
  await expect(row('batch_size')).not.toHaveClass(/diff/);
  await expect(row('lr')).toContainText('0.001');
  // The best latest value of a loss is the lowest.
  await expect(page.locator('[data-testid=metric-diff-row][data-key=loss] td.best')).toHaveText(/^0\.34/);

  await page.getByLabel('Only differences').check();
  await expect(page).toHaveURL(/diff=1/);
  await expect(row('batch_size')).toHaveCount(0);
  await expect(row('lr')).toBeVisible();

  // Overlaid chart: one chart, three runs' points.
  const chart = page.locator('[data-testid=metric-chart][data-key=loss]');
  await chart.scrollIntoViewIfNeeded(); // charts load once scrolled into view
  // Up to 30 s: this spec follows big-chart's 1,000,000 points in the same embedded database, whose
  // vacuum (src/db/pglite-maintenance.ts, once a minute after a table grew by half) holds every
  // request while it runs; a CI run at load 6 saw this series call answer after 9.7 s.
  await expect(chart).toHaveAttribute('data-total-points', '600', { timeout: 30_000 });
  await expect(chart.locator('canvas')).toBeVisible();

  await expect(page.getByTestId('pc-line')).toHaveCount(3);
  await expect(page.getByTestId('parallel-coords')).toContainText('lr');
  await expect(page.getByTestId('scatter-dot')).toHaveCount(3);
  await page.getByLabel('Scatter Y axis').selectOption('m:accuracy');
  await expect(page).toHaveURL(/sy=m%3Aaccuracy/);
  await expect(page.getByTestId('scatter')).toContainText('accuracy');
  await page.evaluate(() => document.querySelector('.main')?.scrollTo(0, 0));
  await shoot(page, 'compare');

  // Removing a run updates the URL and the page.
  await page.getByRole('button', { name: 'Remove lr-0.1 from the comparison' }).click();
  await expect(page.getByTestId('compare-run')).toHaveCount(2);
  await expect(page).not.toHaveURL(new RegExp(ids[0]));
  await expect(page.getByTestId('pc-line')).toHaveCount(2);
});

test('compare: no runs selected explains how to select them', async ({ page }) => {
  await page.goto('/#/compare');
  await expect(page.getByText('No runs to compare')).toBeVisible();
});
