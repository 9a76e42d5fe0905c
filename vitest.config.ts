import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'test/faults/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default is one fork per core but one: a single fork on CI's 2 cores, where much of
    // a file's time is waiting (servers starting, fault timeouts, child processes), so two files
    // at once finish sooner even when the other lane keeps the cores busy.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    // Rebuilds dist/ when a source is newer (crash and start-up tests run bin/cairn.js).
    globalSetup: ['test/harness/global-setup.ts'],
  },
});
