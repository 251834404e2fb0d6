/**
 * Slots are never lost: a daemon killed (SIGKILL) after it claimed a slot and before the slot's run
 * began leaves a claim no one else may take. The next daemon to start recovers it: it runs the slot
 * when it is within catch_up, and records it missed, with the reason, when it is not.
 *
 * The window between claim and start is a few statements long, too short to hit with a signal; the
 * test makes it observable by writing the claim itself, through the slot store, in the name of a real
 * daemon process it then kills: the ledger is then exactly as such a kill leaves it.
 */
import { describe, expect, it } from 'vitest';
import { slotKey } from '../../src/schedule/slots.js';
import { cliEnv, startCli } from '../helpers/cli.js';
import { logSink, recipients, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(21);

/** Starts `bulktext schedule` as a child process on the test's jobs and ledger, claims `slot` as that daemon did, and kills it. */
async function claimThenKill(job: string, slot: string): Promise<string> {
  const daemon = startCli(['schedule', '--jobs', env.jobsDir, '--db', env.dbPath, '--sandbox'], { env: cliEnv(), timeoutMs: 60_000 });
  try {
    const id = await waitFor('the spawned daemon to start', () => /scheduler (\S+) started/.exec(daemon.output().stderr)?.[1], 30_000);
    expect(env.store.claim(job, slot, id, Date.now(), () => undefined)).toEqual({ kind: 'claimed' });
    return id;
  } finally {
    daemon.child.kill('SIGKILL');
    expect((await daemon.done).signal).toBe('SIGKILL');
  }
}

describe('slot recovery', { timeout: 90_000 }, () => {
  it('a slot claimed by a daemon killed before the run began runs when the next daemon starts', async () => {
    // Once a year: no slot of its own falls due during the test.
    writeJob(env, 'yearly', { cron: '0 0 1 1 *', rows: 3, catchUp: '1h' });
    const slot = slotKey(Date.now() - 60_000);
    const killedId = await claimThenKill('yearly', slot);
    expect(env.store.slot('yearly', slot)).toMatchObject({ state: 'started', runId: null, finishedAt: null, daemonId: killedId });

    const log = logSink();
    await env.daemon(log);
    const runId = await waitFor('the recovered slot to start its run', () => env.store.slot('yearly', slot)?.runId ?? undefined, 30_000);
    await waitFor('the run to complete', () => runStoreOf(env.ledger).getRun(runId).state === 'completed', 30_000);
    for (const to of recipients(3)) expect(env.sim.messages.byRecipient(to)).toHaveLength(1);
    expect(log.text()).toContain(`job yearly slot ${slot}: claimed by scheduler ${killedId}`);
    expect(log.text()).toContain("which stopped before the slot's run began; running it now");
    expect(runStoreOf(env.ledger).getRun(runId)).toMatchObject({ trigger: 'schedule', slot });
  });

  it('a slot claimed by a killed daemon longer ago than catch_up is recorded missed, with the reason', async () => {
    writeJob(env, 'yearly', { cron: '0 0 1 1 *', rows: 3, catchUp: '1m' });
    const slot = slotKey(Date.now() - 3_600_000);
    const killedId = await claimThenKill('yearly', slot);

    const log = logSink();
    await env.daemon(log);
    const missed = env.store.slot('yearly', slot)!;
    expect(missed).toMatchObject({ state: 'missed', runId: null });
    expect(missed.finishedAt).not.toBeNull();
    expect(missed.reason).toContain(`claimed by scheduler ${killedId}`);
    expect(missed.reason).toMatch(/late, more than catch_up \(1m\)/);
    expect(env.sim.messages.count()).toBe(0);
  });
});
