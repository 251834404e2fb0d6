/**
 * `bulktext init [dir]`: copies the sample campaign the package ships (the job, its recipients and its
 * suppression list, in the same layout) into a directory, with a starter account file for it at
 * jobs/account.yaml (where run, plan and resume look by default), so someone who installed bulktext rather
 * than cloning it can run the quick start as the README writes it. The copies are the files the test suite
 * checks, not a second version of them. Existing files are never overwritten without --force.
 */
import { constants, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.js';
import { shellQuote } from '../../shared/command-line.js';
import type { Io } from '../io.js';

export interface InitOptions {
  /** @default "." */
  dir?: string | undefined;
  force: boolean;
}

/** The package's root: three levels up from dist/cli/commands/ (or src/cli/commands/ under the tests). */
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * What init writes, relative to the target directory (`to`), and the package file it copies (`from`). The job
 * finds its CSVs relative to itself. The account template is not shipped as jobs/account.yaml because the
 * repo's own commands (and tests) run from its root and would load it.
 */
export const starterFiles = [
  { to: 'jobs/spring-promo.yaml', from: 'jobs/spring-promo.yaml' },
  { to: 'jobs/account.yaml', from: 'sample-data/account.example.yaml' },
  { to: 'sample-data/recipients.csv', from: 'sample-data/recipients.csv' },
  { to: 'sample-data/opt-outs.csv', from: 'sample-data/opt-outs.csv' },
] as const;

export function initCommand(o: InitOptions, io: Pick<Io, 'stdout' | 'cwd'>): number {
  const target = path.resolve(io.cwd, o.dir ?? '.');
  const existing = starterFiles.map((f) => f.to).filter((f) => existsSync(path.join(target, f)));
  if (existing.length > 0 && !o.force) {
    throw new AppError(
      'ERR_INIT_EXISTS',
      `not overwriting ${existing.map((f) => path.join(target, f)).join(', ')}: move ${existing.length === 1 ? 'it' : 'them'} away, or pass --force`,
    );
  }
  for (const { from, to } of starterFiles) {
    mkdirSync(path.dirname(path.join(target, to)), { recursive: true });
    // COPYFILE_FICLONE only asks for a reflink where the filesystem has one; it falls back to a copy.
    copyFileSync(path.join(packageRoot, from), path.join(target, to), constants.COPYFILE_FICLONE);
  }
  const cd = path.relative(io.cwd, target) === '' ? '' : `cd ${shellQuote(target)}\n  `;
  io.stdout(
    `wrote ${starterFiles.map((f) => f.to).join(', ')} in ${target}\n` +
      `next, against the built-in simulator (no key needed, nothing leaves this machine):\n` +
      `  ${cd}bulktext plan jobs/spring-promo.yaml\n` +
      `  bulktext run jobs/spring-promo.yaml --sandbox\n` +
      `then edit jobs/spring-promo.yaml and sample-data/recipients.csv for your own campaign, and put your\n` +
      `account's limits and numbers from the Telnyx portal in jobs/account.yaml (plan, run and resume read it).\n`,
  );
  return 0;
}
