import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A bound for a hung test, not a speed check: an end-to-end test spawns the CLI several times, and on a
    // shared two-core machine (load 15-20) tests that take 10-15 s on a quiet one passed 30 s.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time on two cores (vitest's default is one fewer than the cores: one file at a time
    // here): the end-to-end files spend most of their time waiting on the CLI processes they spawn.
    maxWorkers: 2,
    // One throwaway PostgreSQL cluster for the run (the PostgreSQL ledger's tests take a database each).
    globalSetup: ['test/helpers/pg-global-setup.ts'],
  },
});
