import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A bound for a hung test, not a speed check: an end-to-end test spawns the CLI several times, and on a
    // shared two-core machine (load ~20) tests that take 15 s alone passed 30 s with three workers.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Three files at a time on two cores: an end-to-end file spends most of its time waiting on the CLI
    // children it spawned and the rate limits it exercises (run-resume used ~0.4 of a core over its wall
    // time), so two workers left the machine half idle.
    maxWorkers: 3,
    // One throwaway PostgreSQL cluster for the run (the PostgreSQL ledger's tests take a database each).
    globalSetup: ['test/helpers/pg-global-setup.ts'],
  },
});
