/** The test cluster helper itself: where it finds the server, and what it says when there is none. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPgBin, installHint } from '../../helpers/pg-cluster.js';
import { tempDir } from '../../helpers/temp.js';

function fakeBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const name of ['initdb', 'postgres']) writeFileSync(path.join(dir, name), '');
  return dir;
}

describe('findPgBin', () => {
  it('prefers PATH, then the highest /usr/lib/postgresql/<version>/bin', () => {
    const tmp = tempDir('bulktext-pgbin-');
    try {
      const root = path.join(tmp.dir, 'lib');
      fakeBin(path.join(root, '9.6', 'bin'));
      fakeBin(path.join(root, '15', 'bin'));
      fakeBin(path.join(root, '14', 'bin'));
      expect(findPgBin('', root)).toBe(path.join(root, '15', 'bin'));
      const onPath = fakeBin(path.join(tmp.dir, 'usr-bin'));
      expect(findPgBin(`/nowhere${path.delimiter}${onPath}`, root)).toBe(onPath);
    } finally {
      tmp.cleanup();
    }
  });

  it('without the binaries: an error that says how to install them', () => {
    expect(() => findPgBin('/nowhere', '/nowhere/postgresql')).toThrow(installHint);
    expect(installHint).toContain('apt-get install postgresql');
  });
});
