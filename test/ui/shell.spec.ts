import { expect, serverUrl, shoot, test } from './fixtures.js';

test.describe('serving the UI', () => {
  test('index.html is revalidated, hashed assets are immutable', async ({ request }) => {
    const index = await request.get('/', { headers: { Accept: 'text/html' } });
    expect(index.status()).toBe(200);
    expect(index.headers()['cache-control']).toBe('no-cache');
    const html = await index.text();
    const asset = html.match(/\/assets\/[^"]+\.js/)?.[0];
    expect(asset).toBeTruthy();
    const js = await request.get(asset!);
    expect(js.status()).toBe(200);
    expect(js.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers()['content-type']).toContain('javascript');
  });

  test('API paths keep their JSON errors; non-browser requests get no HTML', async () => {
    const base = serverUrl();
    const api404 = await fetch(`${base}/api/2.0/mlflow/no-such-thing`, { headers: { Accept: 'text/html' } });
    expect(api404.status).toBe(404);
    expect((await api404.json()).error_code).toBe('ENDPOINT_NOT_FOUND');
    const plain = await fetch(`${base}/alice/project`, { headers: { Accept: 'application/json' } });
    expect(plain.status).toBe(404);
    expect((await plain.json()).error_code).toBe('ENDPOINT_NOT_FOUND');
    const wrongMethod = await fetch(`${base}/api/2.0/mlflow/runs/create`, { headers: { Accept: 'text/html' } });
    expect(wrongMethod.status).toBe(405);
    const browser = await fetch(`${base}/alice/project/runs/abc`, { headers: { Accept: 'text/html,application/xhtml+xml' } });
    expect(browser.status).toBe(200);
    expect(await browser.text()).toContain('<div id="root">');
    const traversal = await fetch(`${base}/assets/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(404);
  });
});

test('top bar, navigation and theme toggle', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Cairn home' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Experiments' })).toHaveAttribute('aria-current', 'page');
  await nav.getByRole('link', { name: 'Models' }).click();
  await expect(page).toHaveURL(/#\/models$/);
  await expect(nav.getByRole('link', { name: 'Models' })).toHaveAttribute('aria-current', 'page');
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.getByRole('button', { name: /Switch to/ }).click();
  const after = await page.evaluate(() => document.documentElement.dataset.theme);
  expect(after).not.toBe(before);
  await page.reload();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(after);
});

test('unknown page and API errors are shown, not a blank page', async ({ page }) => {
  await page.goto('/#/nowhere/at/all');
  await expect(page.getByText('Page not found')).toBeVisible();
  await page.goto('/#/experiments/999999/runs/0123456789abcdef0123456789abcdef');
  await expect(page.getByTestId('error-message')).toContainText(/not found|does not exist|No run/i);
  await shoot(page, 'error-state');
});
