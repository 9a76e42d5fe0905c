import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'test/faults/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files share their fork (and its loaded modules) instead of a fresh one each: importing the app
    // anew was a third of every file's time (2026-12-03, integration and security on PGlite: 363 s
    // wall and 663 s CPU isolated, 198 s and 367 s shared). The app keeps no module state (every
    // dependency comes in its context, metrics in a registry of each app's own), so files cannot
    // see each other through it; each file still gets its own databases, servers and folders.
    isolate: false,
    // vitest's default is one fork per core but one: a single fork on CI's 2 cores, where much of
    // a file's time is waiting (servers starting, fault timeouts, child processes), so two files
    // at once finish sooner even when the other lane keeps the cores busy.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    // Rebuilds dist/ when a source is newer (crash and start-up tests run bin/cairn.js).
    globalSetup: ['test/harness/global-setup.ts'],
  },
});
