import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** `n` distinct valid US numbers (checked with libphonenumber, as ingest does). */
export function validNumbers(n: number, areaCode = '415'): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const candidate = `+1${areaCode}${String(2_000_000 + i * 7).padStart(7, '0')}`;
    if (parsePhoneNumberFromString(candidate)?.isValid()) out.push(candidate);
  }
  return out;
}

/** Writes recipients.csv and a job file into `dir`; returns the job path and the numbers. */
export function writeCampaign(
  dir: string,
  options: { rows: number; rate?: number; perSender?: number; maxConcurrent?: number; extraYaml?: string; name?: string; attempts?: number },
): { job: string; numbers: string[]; csv: string } {
  const numbers = validNumbers(options.rows);
  const csv = path.join(dir, 'recipients.csv');
  writeFileSync(csv, `phone,first_name\n${numbers.map((n, i) => `${n},Person${i + 1}`).join('\n')}\n`);
  const job = path.join(dir, 'job.yaml');
  writeFileSync(
    job,
    [
      `name: ${options.name ?? 'e2e-campaign'}`,
      'source:',
      '  path: recipients.csv',
      'sender:',
      '  mode: long_code',
      '  from: ["+18445550001", "+18445550002", "+18445550003", "+18445550004"]',
      'message:',
      '  text: "Hi {{first_name}}, this is a test."',
      'rate:',
      `  messages_per_second: ${options.rate ?? 500}`,
      `  per_sender_per_second: ${options.perSender ?? 1000}`,
      `  max_concurrent: ${options.maxConcurrent ?? 8}`,
      'retry:',
      `  attempts: ${options.attempts ?? 3}`,
      '  min_delay_ms: 10',
      '  max_delay_ms: 50',
      options.extraYaml ?? '',
    ].join('\n'),
  );
  return { job, numbers, csv };
}
