/**
 * What every LeaderStore must do: one leader among contenders, renewed by it, taken by another only after
 * expiry, given up on stop. Declared once, run over a real SQLite file and a real PostgreSQL database.
 * Times are real (PostgreSQL judges expiry by its own clock), so expiry is waited for, briefly.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { LeaderStore } from '../../src/ledger/leader-store.js';
import type { ContractBackend } from './backend.js';

const TTL = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function leaderStoreContract(backend: ContractBackend<LeaderStore>): void {
  let ledger: Awaited<ReturnType<ContractBackend<LeaderStore>['fresh']>>;
  let stores: LeaderStore[];

  beforeEach(async () => {
    ledger = await backend.fresh();
    stores = await Promise.all(Array.from({ length: 6 }, () => ledger.open()));
  });
  afterEach(async () => {
    await ledger.close();
  });

  const leads = async (s: LeaderStore, id: string, ttl = TTL) => (await s.acquire(id, ttl, Date.now()))?.daemonId === id;

  it('nobody leads a new ledger; of many contenders at once exactly one gets the lease, and the others see it held', async () => {
    expect(await stores[0]!.holder(Date.now())).toBeUndefined();
    const won = await Promise.all(stores.map((s, i) => leads(s, `d${i}`)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const leader = `d${won.indexOf(true)}`;
    const seen = await stores[0]!.holder(Date.now());
    expect(seen?.daemonId).toBe(leader);
    expect(seen!.remainingMs).toBeGreaterThan(TTL - 5000);
    expect(seen!.remainingMs).toBeLessThanOrEqual(TTL);
    // Asked again while it is held, every other contender is still refused.
    for (const [i, s] of stores.entries()) if (`d${i}` !== leader) expect(await leads(s, `d${i}`)).toBe(false);
  });

  it('its holder renews it: the expiry moves on, and nobody else gets it meanwhile', async () => {
    const [a, b] = stores as [LeaderStore, LeaderStore];
    expect(await leads(a, 'A', 1500)).toBe(true);
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      expect(await leads(a, 'A', 1500)).toBe(true);
      expect(await leads(b, 'B', 1500)).toBe(false);
    }
    // 2 s after it was first taken, a 1.5 s lease is alive only because it was renewed.
    expect((await b.holder(Date.now()))!.remainingMs).toBeGreaterThan(500);
  });

  it('another takes it only once it has expired; the old holder then cannot renew it', async () => {
    const [a, b] = stores as [LeaderStore, LeaderStore];
    expect(await leads(a, 'A', 600)).toBe(true);
    expect(await leads(b, 'B', 600)).toBe(false);
    await sleep(900);
    expect((await b.holder(Date.now()))!.remainingMs).toBeLessThanOrEqual(0);
    expect(await leads(b, 'B', TTL)).toBe(true);
    expect(await leads(a, 'A', TTL)).toBe(false);
    expect((await a.holder(Date.now()))?.daemonId).toBe('B');
  });

  it('takeOver takes an unexpired lease, but only from the holder named and only once', async () => {
    const [a, ...others] = stores as [LeaderStore, ...LeaderStore[]];
    expect(await leads(a, 'A')).toBe(true);
    expect(await others[0]!.takeOver('X', 'B', TTL, Date.now())).toBe(false);
    const took = await Promise.all(others.map((s, i) => s.takeOver('A', `t${i}`, TTL, Date.now())));
    expect(took.filter(Boolean)).toHaveLength(1);
    const winner = `t${took.indexOf(true)}`;
    const seen = await a.holder(Date.now());
    expect(seen?.daemonId).toBe(winner);
    expect(seen!.remainingMs).toBeGreaterThan(TTL - 5000);
    expect(await leads(a, 'A')).toBe(false);
  });

  it('released by its holder (a clean stop), it is free at once; only the holder can release it', async () => {
    const [a, b, c] = stores as [LeaderStore, LeaderStore, LeaderStore];
    expect(await leads(a, 'A')).toBe(true);
    expect(await b.release('B')).toBe(false);
    expect((await c.holder(Date.now()))?.daemonId).toBe('A');
    expect(await a.release('A')).toBe(true);
    expect(await c.holder(Date.now())).toBeUndefined();
    expect(await leads(b, 'B')).toBe(true);
    expect(await a.release('A')).toBe(false);
  });
}
