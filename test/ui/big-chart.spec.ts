import { call, createExperiment, createRun, expect, test, unique } from './fixtures.js';
import { logHistory } from './seed.js';

// A 1,000,000-point metric (logged in 1,000 log-batch calls) draws from the server's downsampled
// series: about one point per pixel column, with the total shown, and zoom asks for finer points.

test('a 1,000,000-point metric draws from the downsampled series and refines on zoom', async ({ page }) => {
  test.setTimeout(600_000);
  const exp = await createExperiment(unique('bigchart'));
  const id = await createRun(exp, { name: 'million', status: 'RUNNING' });
  await logHistory(id, 'loss', 1_000_000, (i) => 1 / (1 + i / 10_000) + (i === 777_777 ? 50 : 0), Date.now() - 1_000_000 * 10, 6);
  await call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });

  await page.goto(`/#/experiments/${exp}/runs/${id}`);
  const chart = page.locator('[data-testid=metric-chart][data-key=loss]');
  await expect(chart).toHaveAttribute('data-total-points', '1000000', { timeout: 30_000 });
  await expect(chart.locator('canvas')).toBeVisible();
  await expect(chart).toContainText('1.0M pts');
  const drawn = Number(await chart.getAttribute('data-drawn-points'));
  expect(drawn).toBeGreaterThan(100);
  expect(drawn).toBeLessThanOrEqual(5000);

  // The spike at step 777,777 survives downsampling: the band's max edge reaches up to it.
  expect(Number(await chart.getAttribute('data-y-max'))).toBeGreaterThan(50);

  const box = (await chart.locator('.u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.22, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await expect(chart).toHaveAttribute('data-zoomed', '1');
  // The zoomed range (about 2% of the steps) comes back finer than the full view had it.
  await expect.poll(async () => Number(await chart.getAttribute('data-total-points'))).toBeLessThan(100_000);
});
