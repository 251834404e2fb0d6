/**
 * The plan/apply guard. `plan` prints a plan_hash over everything that decides what a run sends:
 * the job spec, the source file's bytes, and the suppression state (the job's suppression file and
 * the ledger's opt-out table). `run --plan <hash>` recomputes it and refuses when anything changed,
 * so the operator sends exactly what they reviewed.
 *
 * The hash is four sha256 prefixes joined by dashes, one per component, in a fixed order:
 * `<spec>-<source>-<suppression list>-<ledger opt-outs>`. `--allow-repeat` is part of the spec component
 * (it changes who is texted as much as the spec does). Keeping them apart is what lets the
 * refusal say *what* changed instead of only "something did". 12 hex digits (48 bits) each: this
 * guards against accidental change, and an accidental match of a changed input is a 1-in-2^48 event.
 */
import { createHash } from 'node:crypto';
import { specHash } from '../campaign/spec-hash.js';
import type { JobSpec } from '../config/job-spec.js';
import { hashSource } from '../ingest/index.js';
import type { Ledger } from '../ledger/ledger.js';
import { AppError, isAppError } from '../shared/errors.js';
import { readLedgerSuppressions } from './ledger-plan.js';
import type { PlanHashParts } from './types.js';

const PREFIX = 12;
const PLAN_HASH = /^([0-9a-f]{12})-([0-9a-f]{12})-([0-9a-f]{12})-([0-9a-f]{12})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The digest standing for "the job has no suppression file" (distinct from an empty file's). */
const NO_SUPPRESSION_LIST = sha256('bulktext:no-suppression-list');

/** The spec component: the job spec's hash, or a distinct digest of it for a run with `--allow-repeat`. */
export function planSpecDigest(spec: JobSpec, allowRepeat: boolean): string {
  const digest = specHash(spec);
  return allowRepeat ? sha256(`${digest}\n--allow-repeat`) : digest;
}

/** sha256 of the job's suppression file bytes, or a fixed digest when the job has none. */
export async function suppressionListDigest(spec: JobSpec): Promise<string> {
  if (spec.suppression === undefined) return NO_SUPPRESSION_LIST;
  try {
    return await hashSource(spec.suppression.path);
  } catch (err) {
    if (!isAppError(err, 'ERR_SOURCE_UNREADABLE')) throw err;
    throw new AppError('ERR_SUPPRESSION_UNREADABLE', `suppression list: ${err.message}`, { cause: err });
  }
}

/** sha256 over the ledger's opt-out numbers, sorted (the same set in any order gives the same digest). */
export function ledgerSuppressionDigest(numbers: Iterable<string>): string {
  return sha256([...numbers].sort().join('\n'));
}

export function composePlanHash(parts: PlanHashParts): string {
  return [parts.spec, parts.source, parts.suppression_list, parts.suppression_ledger].map((d) => d.slice(0, PREFIX)).join('-');
}

/** The four component prefixes of a plan hash, or undefined if `text` is not one. */
export function parsePlanHash(text: string): PlanHashParts | undefined {
  const m = PLAN_HASH.exec(text.trim().toLowerCase());
  if (m === null) return undefined;
  return { spec: m[1]!, source: m[2]!, suppression_list: m[3]!, suppression_ledger: m[4]! };
}

/** The components as they are now (reads the source and the suppression file, queries the ledger). */
export async function currentPlanHashParts(spec: JobSpec, options: { ledger?: Ledger | undefined; allowRepeat?: boolean }): Promise<PlanHashParts> {
  const [source, suppressionList] = await Promise.all([hashSource(spec.source.path), suppressionListDigest(spec)]);
  return {
    spec: planSpecDigest(spec, options.allowRepeat ?? false),
    source,
    suppression_list: suppressionList,
    suppression_ledger: ledgerSuppressionDigest(readLedgerSuppressions(options.ledger)),
  };
}

const what: Readonly<Record<keyof PlanHashParts, (spec: JobSpec) => string>> = {
  spec: (spec) => `the job spec (${spec.file})`,
  source: (spec) => `the source content (${spec.source.path})`,
  suppression_list: (spec) => `the job's suppression list (${spec.suppression?.path ?? 'added or removed'})`,
  suppression_ledger: () => `the ledger's opt-out table (numbers added or removed since the plan)`,
};

/**
 * Recomputes the plan hash of `spec` and throws ERR_PLAN_MISMATCH naming every component that no
 * longer matches `expectedHash`; ERR_USAGE when `expectedHash` is not a plan hash at all.
 * `ledger` is the ledger the run will use (its opt-out table is part of the suppression state).
 */
export async function verifyPlanHash(
  spec: JobSpec,
  expectedHash: string,
  options: { ledger?: Ledger | undefined; allowRepeat?: boolean },
): Promise<void> {
  const expected = parsePlanHash(expectedHash);
  if (expected === undefined) {
    throw new AppError(
      'ERR_USAGE',
      `--plan ${JSON.stringify(expectedHash)} is not a plan hash: pass the plan_hash \`bulktext plan\` printed (four groups of 12 hex digits)`,
    );
  }
  const current = await currentPlanHashParts(spec, options);
  const changed = (Object.keys(what) as Array<keyof PlanHashParts>).filter((k) => !current[k].startsWith(expected[k]));
  if (changed.length === 0) return;
  const allowRepeat = options.allowRepeat ?? false;
  // Same spec, other --allow-repeat: say that, not "the job spec changed".
  const flagOnly = changed.includes('spec') && planSpecDigest(spec, !allowRepeat).startsWith(expected.spec);
  const named = changed.map((k) =>
    k === 'spec' && flagOnly ? `--allow-repeat differs (the plan was made ${allowRepeat ? 'without' : 'with'} it, this run has it ${allowRepeat ? 'on' : 'off'})` : `${what[k](spec)} changed`,
  );
  throw new AppError(
    'ERR_PLAN_MISMATCH',
    `the plan no longer matches: ${named.join('; ')} since plan ${expectedHash.trim()}. ` +
      `Nothing was sent. Run \`bulktext plan\` again, review it, and pass the new plan_hash`,
    { details: { changed, expected: expectedHash.trim(), actual: composePlanHash(current) } },
  );
}
