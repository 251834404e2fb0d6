/**
 * `bulktext init [dir]`: copies the sample campaign the package ships (the job, its recipients and its
 * suppression list, in the same layout) into a directory, so someone who installed bulktext rather than
 * cloning it can run the quick start as the README writes it. The copies are the files the test suite
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

/** What init writes, relative to the target directory; the job finds the other two relative to itself. */
export const starterFiles = ['jobs/spring-promo.yaml', 'sample-data/recipients.csv', 'sample-data/opt-outs.csv'] as const;

export function initCommand(o: InitOptions, io: Pick<Io, 'stdout' | 'cwd'>): number {
  const target = path.resolve(io.cwd, o.dir ?? '.');
  const existing = starterFiles.filter((f) => existsSync(path.join(target, f)));
  if (existing.length > 0 && !o.force) {
    throw new AppError(
      'ERR_INIT_EXISTS',
      `not overwriting ${existing.map((f) => path.join(target, f)).join(', ')}: move ${existing.length === 1 ? 'it' : 'them'} away, or pass --force`,
    );
  }
  for (const file of starterFiles) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    // COPYFILE_FICLONE only asks for a reflink where the filesystem has one; it falls back to a copy.
    copyFileSync(path.join(packageRoot, file), path.join(target, file), constants.COPYFILE_FICLONE);
  }
  const cd = path.relative(io.cwd, target) === '' ? '' : `cd ${shellQuote(target)}\n  `;
  io.stdout(
    `wrote ${starterFiles.join(', ')} in ${target}\n` +
      `next, against the built-in simulator (no key needed, nothing leaves this machine):\n` +
      `  ${cd}bulktext plan jobs/spring-promo.yaml\n` +
      `  bulktext run jobs/spring-promo.yaml --sandbox\n` +
      `then edit jobs/spring-promo.yaml and sample-data/recipients.csv for your own campaign.\n`,
  );
  return 0;
}
