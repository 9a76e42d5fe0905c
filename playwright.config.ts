import { defineConfig } from '@playwright/test';

// Browser tests of the web UI (test/ui): Debian's chromium drives a real built Cairn that
// test/ui/global-setup.ts starts on a free port with a throwaway data dir. No browser is downloaded.
export default defineConfig({
  testDir: 'test/ui',
  testMatch: '*.spec.ts',
  // scripts/test.sh runs the long MLflow-UI comparison in its other lane, beside the rest.
  testIgnore: (process.env.CAIRN_UI_IGNORE ?? '').split(',').filter(Boolean),
  globalSetup: './test/ui/global-setup.ts',
  // Two runs at once need two folders: Playwright empties its output folder when it starts.
  outputDir: process.env.CAIRN_UI_OUTPUT ?? 'test-results/ui',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? 'line' : 'list',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    launchOptions: { executablePath: process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium' },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
