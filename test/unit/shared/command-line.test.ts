import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandHint, programName, shellQuote } from '../../../src/shared/command-line.js';

describe('pasteable command hints', () => {
  it('quotes exactly the words a shell would split or expand, and a shell reads them back unchanged', () => {
    const words = ['plain-word_1.db', '/tmp/with space.db', "it's.db", '$HOME', 'a"b', '', '*.csv', 'x;rm -rf y', '--db=/a/b'];
    expect(shellQuote('plain-word_1.db')).toBe('plain-word_1.db');
    expect(shellQuote('--db=/a/b')).toBe('--db=/a/b');
    expect(shellQuote('/tmp/with space.db')).toBe("'/tmp/with space.db'");
    expect(shellQuote("it's.db")).toBe(`'it'\\''s.db'`);
    const echoed = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(echoed.split('\n').slice(0, -1)).toEqual(words);
  });

  it('keeps the --db the operator gave, and names the program as it was started', () => {
    expect(commandHint()(['resume', 'r1'])).toBe('bulktext resume r1');
    expect(commandHint({ db: 'my ledger.db' })(['resume', 'r1'])).toBe("bulktext resume r1 --db 'my ledger.db'");
    expect(commandHint({ program: programName({ npm_command: 'exec' }) })(['status'])).toBe('npx bulktext status');
    expect(programName({})).toBe('bulktext');
  });
});
