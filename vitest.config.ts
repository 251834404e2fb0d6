import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One throwaway PostgreSQL cluster for the run (the PostgreSQL ledger's tests take a database each).
    globalSetup: ['test/helpers/pg-global-setup.ts'],
  },
});
