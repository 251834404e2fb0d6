/**
 * The commands bulktext suggests ("resume with: …", "send exactly this plan: …") are meant to be pasted.
 * A hint that drops `--db` or leaves a space in a path unquoted fails when pasted, so every hint is built
 * here: the program as the operator invoked it, the words shell-quoted, and the ledger they used.
 */

/** Builds a pasteable bulktext command line from its arguments (without the program name). */
export type CommandHint = (args: readonly string[]) => string;

/** POSIX shell quoting: plain words stay as they are, anything else goes in single quotes. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface HintContext {
  /** `--db` as the operator gave it; omitted when they did not (the same default applies when pasted). */
  db?: string | undefined;
  /** How bulktext was started: `npx bulktext` under npx, else `bulktext`. @default "bulktext" */
  program?: string;
}

export function commandHint(context: HintContext = {}): CommandHint {
  const program = context.program ?? 'bulktext';
  return (args) => {
    const words = context.db === undefined ? [...args] : [...args, '--db', context.db];
    return [program, ...words.map(shellQuote)].join(' ');
  };
}

/** The program name for hints, from the environment npm gives a command started by `npx`. */
export function programName(env: Readonly<Record<string, string | undefined>>): string {
  return env.npm_command === 'exec' ? 'npx bulktext' : 'bulktext';
}
