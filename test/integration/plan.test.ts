/**
 * `bulktext plan` over real files and a real SQLite ledger: counts per skip reason with line numbers,
 * segments and the UCS-2 trigger, cost with country overrides, the duration formula, the queue
 * warning, the plan hash and what `verifyPlanHash` names when something changed, and that the rows
 * plan counts are the rows `run` records (same ingest, same parts).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pickSender } from '../../src/campaign/senders.js';
import { startRun } from '../../src/campaign/start-run.js';
import { planCommand } from '../../src/cli/commands/plan.js';
import type { Io } from '../../src/cli/io.js';
import { parseJobSpec } from '../../src/config/job-spec.js';
import { pricingSchema } from '../../src/config/pricing-spec.js';
import { RATE_SAFETY } from '../../src/dispatch/rate-gate.js';
import type { IngestedRow } from '../../src/ingest/index.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { deliveryStoreFor } from '../../src/ledger/delivery-store.js';
import {
  computePlan,
  describePlan,
  parsePlanHash,
  planVsActual,
  readLedgerSuppressions,
  recordPlanOnRun,
  verifyPlanHash,
  type PlannableSpec,
} from '../../src/plan/index.js';
import { AppError, isAppError } from '../../src/shared/errors.js';
import { acceptedAttempt } from '../helpers/ledger.js';
import { tempDir } from '../helpers/temp.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { suppressionStoreOf } from '../../src/ledger/suppression-store.js';

let dir: string;
let cleanup: () => void;
const ledgers: Ledger[] = [];
beforeEach(() => {
  ({ dir, cleanup } = tempDir('bulktext-plan-'));
});
afterEach(() => {
  // The test's ledgers close before the directory they live in is removed.
  for (const ledger of ledgers.splice(0)) ledger.close();
  cleanup();
});

/** A ledger in the test's directory, closed after the test. */
function openLedger(file: string): Ledger {
  const ledger = new Ledger(path.join(dir, file));
  ledgers.push(ledger);
  return ledger;
}

const FROM = ['+18445550001', '+18445550002'];
/** "Hi Cara! " + this is 100 characters: 1 part in GSM-7, 2 in UCS-2 because of the curly quote. */
const CURLY = `We’re shipping your order today. ${'x'.repeat(100 - 'Hi Cara! '.length - 'We’re shipping your order today. '.length)}`;

/** 13 rows, one of each case; the comments give the line each starts on. */
function writeFixture(): void {
  const rows = [
    'phone,first_name,msg',
    '+12015550101,Ann,Your order ships today.', // line 2: 1 part
    '555-01,Bob,Hello', // line 3: invalid number
    '+12015550101,Ann,again', // line 4: duplicate of line 2
    '+12015550102,,Hi', // line 5: missing first_name
    `+12015550103,Cara,${CURLY}`, // line 6: UCS-2 because of ’, 2 parts
    `+12015550104,Dan,${'a'.repeat(200)}`, // line 7: 2 parts GSM-7
    `+12015550105,Eve,${'a'.repeat(2000)}`, // line 8: 14 parts: too long
    '+447400123456,Gus,Cheerio', // line 9: GB, 1 part
    '+12015550106,Hal,listed', // line 10: on the job's suppression list
    '+12015550107,Ivy,stopped', // line 11: in the ledger's opt-out table
    '"+12015550108",Jo,"two\nlines"', // lines 12-13: 1 part
    'a,b', // line 14: wrong field count
    '+15062345678,Kim,Canada 😀', // line 15: CA, UCS-2 because of the emoji, 1 part
  ];
  writeFileSync(path.join(dir, 'recipients.csv'), `${rows.join('\n')}\n`);
  writeFileSync(path.join(dir, 'opt-outs.txt'), '+12015550106\n');
}

function jobDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'plan-test',
    source: { path: 'recipients.csv' },
    sender: { mode: 'long_code', from: FROM },
    message: { text: 'Hi {{first_name}}! {{msg}}' },
    rate: { messages_per_second: 10, per_sender_per_second: 1, count_parts: false },
    suppression: { path: 'opt-outs.txt' },
    ...overrides,
  };
}

/** The job spec with a pricing block (parsed by its own schema until the job schema carries it). */
function plannable(doc: Record<string, unknown> = jobDoc(), pricing?: unknown): PlannableSpec {
  const spec = parseJobSpec(doc, path.join(dir, 'job.yaml'));
  return pricing === undefined ? spec : { ...spec, pricing: pricingSchema.parse(pricing) };
}

const PRICING = { per_part: '0.0040', currency: 'USD', countries: { GB: '0.0400', CA: '0.0100' } };

function ledgerWithOptOuts(numbers: string[]): Ledger {
  const ledger = openLedger('ledger.db');
  for (const n of numbers) suppressionStoreOf(ledger).addSuppression(n, 'stop_reply', 'STOP', Date.now());
  return ledger;
}

async function expectMismatch(promise: Promise<void>, changed: string[]): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAppError(err, 'ERR_PLAN_MISMATCH'), String(err)).toBe(true);
  expect((err as AppError).details?.changed).toEqual(changed);
  return err as AppError;
}

describe('computePlan over a generated CSV', () => {
  it('counts every skip reason with its lines, the segments, the UCS-2 trigger, cost and duration', async () => {
    writeFixture();
    const ledger = ledgerWithOptOuts(['+12015550107']);
    const spec = plannable(jobDoc(), PRICING);
    const plan = await computePlan(spec, { suppressedNumbers: readLedgerSuppressions(ledger), sample: 2 });

    expect(plan.rows).toEqual({
      total: 13,
      sendable: 6,
      invalid: 1,
      unsupported_destination: 0,
      duplicate: 1,
      suppressed: 2,
      already_sent: 0,
      missing_field: 1,
      too_long: 1,
      invalid_row: 1,
      invalid_text: 0,
      non_ascii_digits: 0,
    });
    expect(plan.suppressed_by).toEqual({ list: 1, ledger: 1 });
    const lines = Object.fromEntries(Object.entries(plan.skipped_examples).map(([k, v]) => [k, v.map((e) => e.line)]));
    expect(lines).toEqual({ invalid_number: [3], unsupported_destination: [], duplicate: [4], suppressed: [10, 11], already_sent: [], missing_field: [5], too_long: [8], invalid_row: [14], invalid_text: [] });
    expect(plan.skipped_examples.too_long[0]?.detail).toContain('14 parts');

    // Sendable: lines 2 (1), 6 (2, UCS-2), 7 (2), 9 (1, GB), 12 (1), 15 (1, UCS-2, CA).
    expect(plan.segments.total).toBe(8);
    expect(plan.segments.by_parts).toEqual({ '1': 4, '2': 2 });
    expect(plan.segments.ucs2_rows).toBe(2);
    expect(plan.segments.ucs2_switched).toBe(2);
    expect(plan.segments.ucs2_extra_parts).toBe(1);
    expect(plan.segments.ucs2_triggers).toEqual([
      { char: '’', code_point: 'U+2019', rows: 1 },
      { char: '😀', code_point: 'U+1F600', rows: 1 },
    ]);
    expect(plan.segments.ucs2_examples[0]).toMatchObject({ line: 6, char: '’', code_point: 'U+2019', parts: 2, gsm7_parts: 1 });
    expect(plan.segments.ucs2_examples[0]?.excerpt).toContain('We’re');

    // US 6 parts × 0.0040 + GB 1 × 0.0400 + CA 1 × 0.0100.
    expect(plan.cost).toMatchObject({ amount: '0.0740', currency: 'USD', estimate: true });
    expect(plan.cost.lines).toEqual([
      { country: '*', kind: 'sms_part', count: 6, price: '0.0040', amount: '0.0240' },
      { country: 'CA', kind: 'sms_part', count: 1, price: '0.0100', amount: '0.0100' },
      { country: 'GB', kind: 'sms_part', count: 1, price: '0.0400', amount: '0.0400' },
    ]);

    // Duration: the dispatcher's sender keys and RATE_SAFETY's pacing.
    const sendable = ['+12015550101', '+12015550103', '+12015550104', '+447400123456', '+12015550108', '+15062345678'];
    const perSender = new Map<string, number>();
    for (const n of sendable) perSender.set(pickSender(spec.sender, n), (perSender.get(pickSender(spec.sender, n)) ?? 0) + 1);
    const busiest = Math.max(...perSender.values());
    const expected = Math.max(6 / (10 * RATE_SAFETY), busiest / (1 * RATE_SAFETY));
    expect(plan.estimated_seconds).toBeCloseTo(expected, 3);
    expect(plan.duration.per_sender.senders).toBe(perSender.size);

    expect(plan.samples).toHaveLength(2);
    expect(plan.samples[0]).toMatchObject({ row: 1, line: 2, to: '+12015550101', text: 'Hi Ann! Your order ships today.', parts: 1, encoding: 'GSM-7' });
    expect(FROM).toContain(plan.samples[0]?.from);

    const codes = plan.warnings.map((w) => w.code);
    expect(codes).toEqual(['invalid_numbers', 'invalid_rows', 'missing_fields', 'too_long', 'ucs2_switch']);
    expect(plan.warnings.find((w) => w.code === 'invalid_numbers')?.lines).toEqual([3]);

    const text = describePlan(plan, { jobFile: 'job.yaml' });
    expect(text).toContain('"’" U+2019');
    expect(text).toContain("1 on the job's suppression list, 1 in the ledger's opt-outs");
    expect(text).toContain(`bulktext run job.yaml --plan ${plan.plan_hash}`);
    expect(text).toContain('0.0740 USD');
  });

  it('without pricing reports cost null with a note; MMS counts 1 part per message', async () => {
    writeFixture();
    const plan = await computePlan(plannable(jobDoc({ message: { text: 'Hi {{first_name}}! {{msg}}', media_urls: ['https://example.com/a.png'] } })));
    expect(plan.cost.amount).toBeNull();
    expect(plan.cost.currency).toBeNull();
    expect(plan.cost.note).toContain('pricing');
    // MMS is not split: the 2000-character row is no longer too long, and nothing is UCS-2 counted.
    expect(plan.rows.too_long).toBe(0);
    expect(plan.segments.by_parts).toEqual({ '1': plan.rows.sendable });
    expect(plan.segments.total).toBe(plan.rows.sendable);
    expect(plan.segments.ucs2_rows).toBe(0);
  });

  it('honours encoding ucs2 and gsm7 and counts short codes as ASCII', async () => {
    writeFixture();
    const ucs2 = await computePlan(plannable(jobDoc({ message: { text: 'Hi {{first_name}}! {{msg}}', encoding: 'ucs2' } })));
    expect(ucs2.segments.ucs2_rows).toBe(ucs2.rows.sendable);
    expect(ucs2.segments.ucs2_switched).toBe(0);
    const gsm7 = await computePlan(plannable(jobDoc({ message: { text: 'Hi {{first_name}}! {{msg}}', encoding: 'gsm7' } })));
    // The curly-quote and emoji rows cannot be sent as GSM-7: ingest skips them as invalid rows.
    expect(gsm7.rows.invalid_row).toBe(3);
    expect(gsm7.segments.ucs2_rows).toBe(0);
    const short = await computePlan(plannable(jobDoc({ sender: { mode: 'short_code', from: '+15555' } })));
    expect(short.notes.join(' ')).toContain('7-bit ASCII');
    expect(short.segments.ucs2_rows).toBe(2);
  });

  it('warns that a long code paced per message would overflow its 4-hour Telnyx queue', async () => {
    const lines = ['phone,msg'];
    for (let i = 0; i < 16_000; i++) lines.push(`+1${['201', '202', '212', '305'][i % 4]}555${String(i >> 2).padStart(4, '0')},${'b'.repeat(200)}`);
    writeFileSync(path.join(dir, 'big.csv'), `${lines.join('\n')}\n`);
    const spec = plannable({
      name: 'big',
      source: { path: 'big.csv' },
      sender: { mode: 'long_code', from: '+12015550123' },
      message: { text: '{{msg}}' },
      rate: { messages_per_second: 10, per_sender_per_second: 1, count_parts: false },
    });
    const plan = await computePlan(spec);
    expect(plan.rows.sendable).toBe(16_000);
    expect(plan.segments).toMatchObject({ total: 32_000, by_parts: { '2': 16_000 } });
    const overflow = plan.warnings.find((w) => w.code === 'queue_overflow');
    expect(overflow).toMatchObject({ sender: '+12015550123', segments: 32_000, capacity: 14_400 });
    expect(overflow?.backlog).toBe(Math.ceil(32_000 - 16_000 / RATE_SAFETY));
    expect(plan.estimated_seconds).toBeCloseTo(16_000 / RATE_SAFETY, 3);

    // Counted in parts, the sender is paced in segments and nothing piles up at Telnyx.
    const counted = await computePlan({ ...spec, rate: { ...spec.rate, count_parts: true } });
    expect(counted.warnings.filter((w) => w.code === 'queue_overflow')).toEqual([]);
    expect(counted.estimated_seconds).toBeCloseTo(32_000 / RATE_SAFETY, 3);
  });
});

describe('plan hash and verifyPlanHash', () => {
  it('changes with the spec, the source bytes and the suppression state, and the guard names which', async () => {
    writeFixture();
    const ledger = ledgerWithOptOuts(['+12015550107']);
    const spec = plannable(jobDoc(), PRICING);
    const plan = await computePlan(spec, { suppressedNumbers: readLedgerSuppressions(ledger) });
    expect(plan.plan_hash).toMatch(/^[0-9a-f]{12}(-[0-9a-f]{12}){3}$/);
    expect(parsePlanHash(plan.plan_hash)?.source).toBe(plan.hash_components.source.slice(0, 12));
    expect(plan.hash_components.source).toBe(plan.source.sha256);
    await expect(verifyPlanHash(spec, plan.plan_hash, { ledger })).resolves.toBeUndefined();
    // Planning again over the same state gives the same hash.
    expect((await computePlan(spec, { suppressedNumbers: readLedgerSuppressions(ledger) })).plan_hash).toBe(plan.plan_hash);

    // 1. The job spec (the message text).
    const edited = plannable(jobDoc({ message: { text: 'Hello {{first_name}}! {{msg}}' } }), PRICING);
    const e1 = await expectMismatch(verifyPlanHash(edited, plan.plan_hash, { ledger }), ['spec']);
    expect(e1.message).toContain('the job spec');
    expect((await computePlan(edited, { suppressedNumbers: readLedgerSuppressions(ledger) })).plan_hash).not.toBe(plan.plan_hash);
    // A price change is a spec change too.
    await expectMismatch(verifyPlanHash(plannable(jobDoc(), { ...PRICING, per_part: '0.0050' }), plan.plan_hash, { ledger }), ['spec']);

    // 2. The suppression state: the ledger's opt-out table.
    suppressionStoreOf(ledger).addSuppression('+12015550104', 'stop_reply', 'STOP', 1);
    const e2 = await expectMismatch(verifyPlanHash(spec, plan.plan_hash, { ledger }), ['suppression_ledger']);
    expect(e2.message).toContain("the ledger's opt-out table");
    const afterStop = await computePlan(spec, { suppressedNumbers: readLedgerSuppressions(ledger) });
    expect(afterStop.rows.suppressed).toBe(3);
    expect(afterStop.plan_hash).not.toBe(plan.plan_hash);
    suppressionStoreOf(ledger).removeSuppression('+12015550104', ['stop_reply']);
    await expect(verifyPlanHash(spec, plan.plan_hash, { ledger })).resolves.toBeUndefined();

    // 3. The job's suppression file.
    appendFileSync(path.join(dir, 'opt-outs.txt'), '+12015550103\n');
    const e3 = await expectMismatch(verifyPlanHash(spec, plan.plan_hash, { ledger }), ['suppression_list']);
    expect(e3.message).toContain('opt-outs.txt');

    // 4. The source bytes, together with the list: both are named.
    appendFileSync(path.join(dir, 'recipients.csv'), '+12015550109,Lou,new\n');
    const e4 = await expectMismatch(verifyPlanHash(spec, plan.plan_hash, { ledger }), ['source', 'suppression_list']);
    expect(e4.message).toContain('the source content');
    expect(e4.message).toContain('Nothing was sent');
  });

  it('refuses a value that is not a plan hash with ERR_USAGE', async () => {
    writeFixture();
    const err = await verifyPlanHash(plannable(), 'abc123', {}).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_USAGE')).toBe(true);
  });

  it('counts no ledger opt-outs without a ledger, or with an empty suppressions table', () => {
    const ledger = openLedger('fresh.db');
    expect(readLedgerSuppressions(ledger).size).toBe(0);
    expect(readLedgerSuppressions(undefined).size).toBe(0);
  });
});

describe('plan against what run records', () => {
  it('counts the rows run ingests, row for row, and status can set actual cost against the estimate', async () => {
    writeFixture();
    const ledger = ledgerWithOptOuts(['+12015550107']);
    const spec = plannable(jobDoc(), PRICING);
    const suppressed = readLedgerSuppressions(ledger);
    const planned: IngestedRow[] = [];
    const plan = await computePlan(spec, { suppressedNumbers: suppressed, onRow: (r) => planned.push(r) });
    const { run } = await startRun(ledger, spec, { sandbox: true });

    const recorded = [...messageStoreOf(ledger).messages(run.rid)];
    expect(recorded.map((m) => [m.row, m.status === 'skipped' ? m.errorCode : 'send', m.status === 'skipped' ? null : m.parts])).toEqual(
      planned.map((r) => [r.row, r.skip?.reason ?? 'send', r.skip === undefined ? r.parts : null]),
    );
    const recordedParts = recorded.filter((m) => m.status === 'pending').reduce((s, m) => s + m.parts, 0);
    expect(recordedParts).toBe(plan.segments.total);

    recordPlanOnRun(ledger, run.rid, plan);
    let vs = planVsActual(ledger, run.rid);
    expect(vs.planned).toEqual({ parts: 8, cost: { amount: '0.0740', currency: 'USD' }, plan_hash: plan.plan_hash });
    expect(vs.actual).toEqual({ sent_rows: 0, parts: 0, cost: [], rows_without_cost: 0 });

    // Telnyx accepts two rows: one with a cost, one whose cost is not known yet.
    const pending = recorded.filter((m) => m.status === 'pending').slice(0, 2);
    const at = Date.now();
    messageStoreOf(ledger).commit(run.rid, { sending: pending.map((m) => ({ row: m.row, at })), outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(run.rid, {
      sending: [],
      attempts: pending.map((m, i) => acceptedAttempt(m.row, `00000000-0000-4000-8000-00000000000${i}`, at)),
      outcomes: pending.map((m, i) => ({
        row: m.row,
        status: 'sent' as const,
        messageId: `00000000-0000-4000-8000-00000000000${i}`,
        fromNumber: null,
        parts: m.parts,
        cost: i === 0 ? '0.0040' : null,
        currency: i === 0 ? 'USD' : null,
        at,
      })),
    });
    vs = planVsActual(ledger, run.rid);
    expect(vs.actual).toEqual({
      sent_rows: 2,
      parts: pending[0]!.parts + pending[1]!.parts,
      cost: [{ amount: '0.0040', currency: 'USD' }],
      rows_without_cost: 1,
    });
    expect(vs.cost_difference).toBe('-0.0700');
    expect(vs.parts_difference).toBe(pending[0]!.parts + pending[1]!.parts - 8);
    expect(() => recordPlanOnRun(ledger, 9999, plan)).toThrow(/no run/);
  });
});

describe('planCommand', () => {
  function io(): Io & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      stdout: (s) => void out.push(s),
      stderr: (s) => void err.push(s),
      env: {},
      isTTY: false,
      signal: new AbortController().signal,
      cwd: dir,
    };
  }

  it('prints the documented --json object, counting the ledger opt-outs', async () => {
    writeFixture();
    writeFileSync(path.join(dir, 'job.json'), JSON.stringify(jobDoc()));
    ledgerWithOptOuts(['+12015550107']).close();
    const o = io();
    expect(await planCommand({ jobFile: 'job.json', db: 'ledger.db', json: true, sample: 1 }, o)).toBe(0);
    const printed = JSON.parse(o.out.join('')) as Record<string, unknown> & { rows: Record<string, number>; segments: Record<string, unknown>; cost: Record<string, unknown> };
    expect(Object.keys(printed).slice(0, 7)).toEqual(['job', 'rows', 'segments', 'cost', 'estimated_seconds', 'warnings', 'plan_hash']);
    expect(printed.rows).toMatchObject({ total: 13, sendable: 6, invalid: 1, duplicate: 1, suppressed: 2, missing_field: 1, too_long: 1 });
    expect(printed.segments).toMatchObject({ total: 8, by_parts: { '1': 4, '2': 2 }, ucs2_rows: 2 });
    expect(printed.cost).toMatchObject({ amount: null, currency: null });
    expect(typeof printed.estimated_seconds).toBe('number');
    expect(printed.samples).toHaveLength(1);
    expect(o.err).toEqual([]);
  });

  it('prints a readable summary; without a ledger it says so and creates none', async () => {
    writeFixture();
    writeFileSync(path.join(dir, 'job.json'), JSON.stringify(jobDoc()));
    const o = io();
    expect(await planCommand({ jobFile: 'job.json', db: 'none.db', json: false, sample: 2 }, o)).toBe(0);
    const text = o.out.join('');
    for (const section of ['Rows', 'Segments', 'Cost (estimate)', 'Duration (estimate)', 'Warnings', 'Samples', 'plan_hash']) {
      expect(text).toContain(section);
    }
    // Rows numbered as `report` numbers them, with the file line beside; reasons named as report names them.
    expect(text).toContain('e.g. row 2 (line 3): "555-01" is not a valid phone number');
    expect(text).toMatch(/invalid_number +1 +row 2 \(line 3\)/);
    // The hint keeps the ledger the operator named, so it works when pasted.
    expect(text).toContain(`send exactly this plan: bulktext run job.json --plan ${/plan_hash (\S+)/.exec(text)?.[1]} --db none.db`);
    expect(o.err.join('')).toContain('no ledger at');
    await expect(import('node:fs').then((fs) => fs.existsSync(path.join(dir, 'none.db')))).resolves.toBe(false);
  });

  it('rejects a bad --sample', async () => {
    writeFixture();
    writeFileSync(path.join(dir, 'job.json'), JSON.stringify(jobDoc()));
    const err = await planCommand({ jobFile: 'job.json', json: true, sample: -1 }, io()).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_USAGE')).toBe(true);
  });
});
