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
  // And it is drawn: in the plot's upper 80% (the rest of the curve stays below 1 on a 0-50+ scale)
  // the pixel columns around step 777,777 are painted on many rows, those around step 300,000 only
  // where horizontal grid lines cross.
  const painted = await chart.evaluate((el) => {
    const canvas = el.querySelector('canvas')!;
    const over = el.querySelector('.u-over')!.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const ratio = canvas.width / box.width;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const rows = (fraction: number) => {
      const x0 = Math.floor((over.left - box.left + over.width * (fraction - 0.01)) * ratio);
      const x1 = Math.ceil((over.left - box.left + over.width * (fraction + 0.01)) * ratio);
      let n = 0;
      for (let y = Math.floor((over.top - box.top) * ratio); y < (over.top - box.top + over.height * 0.8) * ratio; y++) {
        for (let x = x0; x <= x1; x++) if (data[(y * canvas.width + x) * 4 + 3] > 0) { n++; break; }
      }
      return { n, of: Math.round(over.height * 0.8 * ratio) };
    };
    return { spike: rows(0.777777), calm: rows(0.3) };
  });
  expect(painted.spike.n).toBeGreaterThan(painted.calm.n + painted.spike.of / 2);

  const box = (await chart.locator('.u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.22, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await expect(chart).toHaveAttribute('data-zoomed', '1');
  // The zoomed range (about 2% of the steps) comes back finer than the full view had it.
  await expect.poll(async () => Number(await chart.getAttribute('data-total-points'))).toBeLessThan(100_000);
});
