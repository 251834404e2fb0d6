/** The sample nightly job in jobs/ validates and means what its comments say. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../src/campaign/admission.js';
import { loadJobSpec } from '../../../src/config/load-job-spec.js';
import { hashSource, ingestRecipients } from '../../../src/ingest/index.js';
import { loadJobSet } from '../../../src/scheduler/job-set.js';
import { upcomingFirings } from '../../../src/scheduler/firings.js';

const file = path.resolve('jobs/nightly-reminders.yaml');

describe('jobs/nightly-reminders.yaml', () => {
  it('validates, with the schedule, window and deadline it documents', async () => {
    const spec = await loadJobSpec(file);
    expect(spec.name).toBe('nightly-reminders');
    expect(spec.schedule).toEqual({ cron: '0 21 * * *', timezone: 'America/Chicago', catch_up: 3_600_000 });
    expect(spec.window).toEqual({
      start: '08:00',
      end: '20:30',
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      timezone: 'America/New_York',
      timezone_field: 'tz',
    });
    expect(spec.expires_after).toBe(12 * 3_600_000);
    expect(spec.source.path).toBe(path.resolve('sample-data/appointments.csv'));
    await expect(hashSource(spec.source.path)).resolves.toMatch(/^[0-9a-f]{64}$/);
  });

  it('is one of the scheduled jobs in jobs/', async () => {
    const set = await loadJobSet('jobs');
    expect(set.jobs.map((j) => j.name)).toContain('nightly-reminders');
  });

  it('fires at 21:00 Chicago time on both sides of the November DST change, once each night', async () => {
    const spec = await loadJobSpec(file);
    const firings = upcomingFirings(spec.schedule!, Date.parse('2026-10-30T12:00:00Z'), 4);
    expect(firings.map((f) => f.iso)).toEqual([
      '2026-10-31T02:00:00.000Z', // 21:00 CDT
      '2026-11-01T02:00:00.000Z', // 21:00 CDT, the last evening of daylight time
      '2026-11-02T03:00:00.000Z', // 21:00 CST
      '2026-11-03T03:00:00.000Z',
    ]);
    expect(firings.map((f) => f.local)).toEqual([
      'Fri 2026-10-30 21:00:00 CDT',
      'Sat 2026-10-31 21:00:00 CDT',
      'Sun 2026-11-01 21:00:00 CST',
      'Mon 2026-11-02 21:00:00 CST',
    ]);
  });

  it('at 21:00 Chicago time sends to the West at once and holds the East until 08:00, inside the 12 h deadline', async () => {
    const spec = await loadJobSpec(file);
    const runStart = Date.parse('2026-11-24T03:00:00Z'); // 21:00 CST, Monday 23 November
    const admission = createAdmission(spec, runStart, { wait: true })!;
    const row = (tz: string | null) => ({ row: 1, tz, to: '+13125550142', sender: null, text: 'x', subject: null, parts: 1, attempts: 0 });
    expect(admission.decide(row('America/Los_Angeles'), runStart)).toEqual({ action: 'send' });
    expect(admission.decide(row('America/Denver'), runStart)).toEqual({ action: 'send' });
    const east = admission.decide(row('America/New_York'), runStart);
    expect(east).toMatchObject({ action: 'defer', until: Date.parse('2026-11-24T13:00:00Z') }); // 08:00 EST
    // A blank zone falls back to New York.
    expect(admission.decide(row(null), runStart)).toMatchObject({ action: 'defer', until: Date.parse('2026-11-24T13:00:00Z') });
    const central = admission.decide(row('America/Chicago'), runStart);
    expect(central).toMatchObject({ action: 'defer', until: Date.parse('2026-11-24T14:00:00Z') }); // 08:00 CST
    // 12 hours after the start (09:00 CST) anything unsent expires.
    expect(admission.decide(row('America/Chicago'), Date.parse('2026-11-24T15:00:00Z'))).toMatchObject({ action: 'expire' });
  });

  it('reads every row of the sample data as sendable', async () => {
    const spec = await loadJobSpec(file);
    const { batches, stats } = ingestRecipients(spec, {});
    let rows = 0;
    for await (const batch of batches) rows += batch.filter((r) => r.skip === undefined).length;
    const result = await stats;
    expect(result.total).toBe(10);
    expect(rows).toBe(10);
  });
});
