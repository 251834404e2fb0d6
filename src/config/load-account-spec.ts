import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAccountSpec, type AccountSpec } from './account-spec.js';
import { readDocument } from './read-document.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the account file is looked for when neither --account nor BULKTEXT_ACCOUNT names one. */
export const DEFAULT_ACCOUNT_FILE = path.join('jobs', 'account.yaml');

/**
 * `--account` wins, then BULKTEXT_ACCOUNT (either must exist), then `fallback` (./jobs/account.yaml) if it exists.
 * Undefined when there is none: the job's own figures stand for the account.
 */
export async function loadAccountSpec(option: string | undefined, env: Env, cwd: string, fallback = DEFAULT_ACCOUNT_FILE): Promise<AccountSpec | undefined> {
  const named = option ?? (env.BULKTEXT_ACCOUNT || undefined);
  const file = path.resolve(cwd, named ?? fallback);
  if (named === undefined && !existsSync(file)) return undefined;
  const doc = await readDocument(file, 'account file', { unreadable: 'ERR_ACCOUNT_INVALID', invalid: 'ERR_ACCOUNT_INVALID' });
  return parseAccountSpec(doc, file);
}
