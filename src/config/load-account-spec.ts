import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../shared/errors.js';
import { parseAccountSpec, type AccountSpec } from './account-spec.js';

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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AppError('ERR_ACCOUNT_INVALID', `cannot read account file ${file}: ${reason}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new AppError('ERR_ACCOUNT_INVALID', `account file ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  return parseAccountSpec(doc, file);
}
