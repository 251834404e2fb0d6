/** The lease loop of one daemon over a real SQLite ledger file: who leads, when it changes, what each daemon is told. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLeaderStore } from '../../../src/ledger/leader-store.js';
import { Ledger } from '../../../src/ledger/ledger.js';
import { Leadership } from '../../../src/scheduler/leadership.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
const ledgers: Ledger[] = [];
const loops: Leadership[] = [];
beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await Promise.all(loops.splice(0).map((l) => l.close()));
  for (const l of ledgers.splice(0)) l.close();
  tmp.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon's lease loop on its own connection; `events` lists what it was told. */
function daemon(id: string, o: { leaseMs?: number; dead?: (holder: string) => boolean } = {}) {
  const ledger = new Ledger(path.join(tmp.dir, 'ledger.db'));
  ledgers.push(ledger);
  const events: string[] = [];
  const store = new SqliteLeaderStore(ledger);
  const leaseMs = o.leaseMs ?? 400;
  const loop = new Leadership({
    daemonId: id,
    store,
    leaseMs,
    renewMs: leaseMs / 5,
    holderDead: (holder) => o.dead?.(holder) ?? false,
    events: {
      onLead: (from) => events.push(`lead${from === undefined ? '' : ` from ${from}`}`),
      onLose: (why) => events.push(`lose: ${why}`),
      onStandby: (holder) => events.push(`standby: ${holder ?? 'nobody'}`),
      onStoreError: () => events.push('error'),
      onStoreOk: () => undefined,
    },
  });
  loops.push(loop);
  return { loop, events, store };
}

describe('Leadership', () => {
  it('the first leads and keeps leading by renewing; the second stands by, told once who leads', async () => {
    // A lease long enough that a stalled event loop on a loaded machine does not let it lapse.
    const a = daemon('A', { leaseMs: 1500 });
    const b = daemon('B', { leaseMs: 1500 });
    await a.loop.start();
    await b.loop.start();
    await sleep(3000); // two leases: A leads only because it renews
    expect(a.loop.leading).toBe(true);
    expect(b.loop.leading).toBe(false);
    expect(b.loop.holder).toBe('A');
    expect(a.events).toEqual(['lead']);
    expect(b.events).toEqual(['standby: A']);
  });

  it('a leader that stops renewing (closed, not released) is replaced once its lease has run out', async () => {
    const a = daemon('A');
    const b = daemon('B');
    await a.loop.start();
    await b.loop.start();
    await a.loop.close();
    const closedAt = Date.now();
    while (!b.loop.leading) await sleep(10);
    // Not before the lease ran out: A's last renewal was at most a renewal interval before the close.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(400 - 80 - 20);
    expect(b.events).toEqual(['standby: A', 'lead from A']);
  });

  it('a holder known dead is replaced at the next attempt, without waiting out its lease', async () => {
    const a = daemon('A', { leaseMs: 60_000 });
    const b = daemon('B', { leaseMs: 60_000, dead: (h) => h === 'A' });
    await a.loop.start();
    await a.loop.close();
    await b.loop.start();
    expect(b.loop.leading).toBe(true);
    expect(b.events).toEqual(['lead from A']);
  });

  it('released, the lease goes to the standby at its next attempt; the old leader, asking again, stands by', async () => {
    const a = daemon('A', { leaseMs: 60_000 });
    const b = daemon('B', { leaseMs: 60_000 });
    await a.loop.start();
    await b.loop.start();
    await a.loop.release();
    expect(a.loop.leading).toBe(false);
    await b.loop.tick();
    expect(b.loop.leading).toBe(true);
    await a.loop.tick();
    expect(a.loop.leading).toBe(false);
    expect(a.events).toEqual(['lead', 'standby: B']);
  });

  it('a leader paused past its lease no longer leads by its own clock, and the standby takes the lease', async () => {
    const a = daemon('A', { leaseMs: 300 });
    const b = daemon('B', { leaseMs: 300 });
    await a.loop.start();
    await a.loop.close(); // paused: no renewals
    await sleep(400);
    await b.loop.start();
    expect(b.loop.leading).toBe(true);
    expect(a.loop.leading).toBe(false); // its own clock says the lease may have run out
  });
});
