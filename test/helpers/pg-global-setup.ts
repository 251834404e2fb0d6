/**
 * vitest globalSetup: one throwaway PostgreSQL cluster for the whole run, so test files do not each pay
 * initdb. Its admin URL reaches the files through provide/inject (pg-cluster.ts `createDatabase`).
 */
import type { TestProject } from 'vitest/node';
import { startPgCluster } from './pg-cluster.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPgCluster();
  project.provide('pgAdminUrl', cluster.adminUrl);
  return () => cluster.stop();
}
