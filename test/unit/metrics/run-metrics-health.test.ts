/** A run's /healthz over real HTTP on 127.0.0.1: healthy while the ledger is open, and naming no file. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRunMetricsServer } from '../../../src/metrics/index.js';
import { useTempLedger } from '../../helpers/ledger.js';

const t = useTempLedger();

describe('a run’s /healthz', () => {
  it('says the ledger is open without showing its path', async () => {
    const server = await startRunMetricsServer({ port: 0, ledger: t.ledger });
    try {
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ ok: true, ledger: 'open' });
      expect(text).not.toContain(path.basename(t.file));
    } finally {
      await server.close();
    }
  });
});
