/**
 * Campaign memory for scheduled jobs: by default it is the slot alone. A nightly job texts the same
 * people at every slot, but a slot (or a manual run after it) never texts them twice. In process,
 * over the simulator and a real ledger file.
 */
import { describe, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { startRun } from '../../src/campaign/start-run.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { slotKey } from '../../src/schedule/slots.js';
import { useSimulator } from '../helpers/simulator.js';
import { fixture, recipients, writeJob } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';

const env = useSimulator();
const fast = { accountRate: 100_000, senderRates: { longCode: 100_000 }, webhooks: { enabled: false } } as const;

async function sendSlot(spec: Awaited<ReturnType<typeof loadJobSpec>>, slot: string | undefined) {
  const { run } = await startRun(env.ledger, spec, { sandbox: false, ...(slot === undefined ? {} : { trigger: 'schedule' as const, slot }) });
  await executeRun(env.ledger, run, spec, { apiKey: 'k', baseUrl: env.sim.url });
  return messageStoreOf(env.ledger).counts(run.rid);
}

describe('campaign memory of a scheduled job', { timeout: 90_000 }, () => {
  it("the next slot texts the same people; the same slot, or a manual run after it, does not", async () => {
    await env.start({ simulator: fast });
    const f = fixture();
    try {
      // Every hour on the hour, UTC: the latest slot before now is at most an hour old.
      const spec = await loadJobSpec(writeJob(f, 'hourly', { cron: '0 * * * *', timezone: 'UTC', rows: 4 }));
      const hour = 3_600_000;
      const latest = Math.floor(Date.now() / hour) * hour;

      expect(await sendSlot(spec, slotKey(latest))).toMatchObject({ sent: 4, skipped: 0 });
      // The slot fired again (a second daemon, a restart): nobody twice.
      expect(await sendSlot(spec, slotKey(latest))).toMatchObject({ sent: 0, skipped: 4 });
      // A manual run now belongs to the latest slot too.
      expect(await sendSlot(spec, undefined)).toMatchObject({ sent: 0, skipped: 4 });
      // The next slot is a new night: everyone again.
      expect(await sendSlot(spec, slotKey(latest + hour))).toMatchObject({ sent: 4, skipped: 0 });
      for (const to of recipients(4)) expect(env.sim.messages.byRecipient(to)).toHaveLength(2);
    } finally {
      f.cleanup();
    }
  });
});
