/**
 * A command the CLI suggests, written so it works when pasted: it keeps the `--db` the operator gave and
 * quotes what the shell would split or expand.
 */
const SAFE = /^[\w@%+=:,./-]+$/;

export function shellQuote(word: string): string {
  return SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function bulktextHint(args: readonly string[], db: string | undefined): string {
  const words = ['bulktext', ...args, ...(db === undefined ? [] : ['--db', db])];
  return words.map(shellQuote).join(' ');
}
