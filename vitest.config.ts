import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'test/faults/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Rebuilds dist/ when a source is newer (crash and start-up tests run bin/cairn.js).
    globalSetup: ['test/harness/global-setup.ts'],
  },
});
