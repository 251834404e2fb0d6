/**
 * Rows are stored short (ledger/message-text.ts: a templated text as its values, the run's own sender as
 * ''): every reader of a row's text and sender must still get exactly what ingest rendered and pinned.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickSender } from '../../src/campaign/senders.js';
import { reportChunks } from '../../src/campaign/report.js';
import { startRun } from '../../src/campaign/start-run.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { deliveryStoreFor } from '../../src/ledger/delivery-store.js';
import { validNumbers } from '../helpers/campaign-files.js';
import { useTempLedger } from '../helpers/ledger.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';

const temp = useTempLedger();
/** The temp ledger's folder: the test's CSV and job files go beside it. */
const dir = () => path.dirname(temp.file);

const NAMES = ['Ann', 'Zoë 🎉', 'Ünïcödé 中文', "O'Neil, Jr.", 'Lee\tKim'];
const numbers = validNumbers(NAMES.length + 1);

/** A job over a CSV of NAMES (plus an invalid number and a blank name); returns the loaded spec. */
async function job(name: string, text: string, from: string[]) {
  const csv = path.join(dir(), `${name}.csv`);
  const lines = NAMES.map((n, i) => `${numbers[i]},"${n.replaceAll('"', '""')}",C-${i + 1}`);
  writeFileSync(csv, `phone,name,code\n${lines.join('\n')}\nnot-a-number,X,C-0\n${numbers[NAMES.length]},,C-9\n`);
  const file = path.join(dir(), `${name}.yaml`);
  writeFileSync(
    file,
    [`name: ${name}`, 'source:', `  path: ${name}.csv`, 'sender:', '  mode: long_code', `  from: ${JSON.stringify(from)}`, 'message:', `  text: ${JSON.stringify(text)}`].join('\n'),
  );
  return loadJobSpec(file);
}

const cases = [
  { name: 'templated', text: 'Hi {{name}} 👋 — {{code}}; again {{name}}.', render: (n: string, c: string) => `Hi ${n} 👋 — ${c}; again ${n}.` },
  { name: 'bare', text: '{{name}}{{code}}', render: (n: string, c: string) => `${n}${c}` },
  { name: 'plain', text: 'Flash sale today — 20 % off ✨ {not a field}', render: () => 'Flash sale today — 20 % off ✨ {not a field}' },
];

describe('texts and senders stored short', () => {
  for (const from of [['+18445550001'], ['+18445550001', '+18445550002', '+18445550003']]) {
    for (const c of cases) {
      it(`${c.name} text, ${from.length} sender(s): every reader gets the rendered text and the pinned sender`, async () => {
        const ledger = temp.ledger;
        const spec = await job(c.name, c.text, from);
        const { run } = await startRun(ledger, spec, { sandbox: false });
        const rid = run.rid;
        const expected = NAMES.map((n, i) => ({ row: i + 1, text: c.render(n, `C-${i + 1}`), sender: pickSender(spec.sender, numbers[i]!) }));
        // A blank {{name}} is skipped as missing_field, except by the plain text, which uses no field.
        if (c.name === 'plain') expected.push({ row: NAMES.length + 2, text: c.render('', ''), sender: pickSender(spec.sender, numbers[NAMES.length]!) });

        const pending = messageStoreOf(ledger).nextPending(rid, 0, 100);
        expect(pending.map((p) => ({ row: p.row, text: p.text, sender: p.sender }))).toEqual(expected);
        for (const e of expected) expect(messageStoreOf(ledger).message(rid, e.row)).toMatchObject({ text: e.text, sender: e.sender });
        const all = [...messageStoreOf(ledger).messages(rid)];
        expect(all.filter((m) => m.status === 'pending').map((m) => ({ row: m.row, text: m.text, sender: m.sender }))).toEqual(expected);
        // Skipped rows keep what they had: no text, no sender.
        const invalid = all.find((m) => m.row === NAMES.length + 1)!;
        expect(invalid).toMatchObject({ status: 'skipped', text: null, sender: null });
        expect([...messageStoreOf(ledger).messages(rid, ['pending'])].map((m) => m.text)).toEqual(expected.map((e) => e.text));

        // The CSV report's lines are built from the ledger's pieces: a row not sent yet shows the sender it is pinned to.
        const lines = [...reportChunks(ledger, rid, 'csv', { statuses: ['pending'] })].join('').split('\n').slice(1, -1);
        expect(lines.map((l) => { const cells = l.split(','); return [cells[0], cells[3]]; })).toEqual(expected.map((e) => [String(e.row), e.sender]));

        // An in-doubt row, as webhooks and reconcile look it up by destination.
        messageStoreOf(ledger).commit(rid, { sending: [{ row: 2, at: 1 }], outcomes: [], attempts: [] });
        messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [{ row: 2, status: 'unknown', errorCode: 'in_doubt', errorDetail: 'reset', at: 2 }], attempts: [] });
        expect(deliveryStoreFor(ledger).unknownRowsTo(numbers[1]!)).toMatchObject([{ row: 2, text: expected[1]!.text, sender: expected[1]!.sender }]);
      });
    }
  }
});
