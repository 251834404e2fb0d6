/**
 * A row's text and sender as the ledger stores them. Most rows of a templated job say the same thing
 * around a few values, and nearly every row goes out from the run's one sender: storing each rendered
 * text and sender in full made them more than half of a row's bytes. So a row may instead hold only the
 * values its template placed (`vars`, joined by U+001F, which ingest refuses in any value) and an empty
 * sender; the run's template pieces and sender are kept once in `run_texts` (migration 12). Every read
 * of a row's text or sender puts them back (`restoreRow` in the Ledger's readers, cheaper in JS than a SQL
 * function; `textOf` / `senderOf` in SQL that spans runs), so readers get what was rendered.
 */
import type Database from 'better-sqlite3';

/** Joins a row's template values in `vars`; never inside a value (ingest skips such rows as invalid_text). */
export const VARS_SEPARATOR = '\u001f';

/** The text a template's literal pieces and a row's `vars` render to (as ingest's template renders it). */
export function renderVars(literals: readonly string[], vars: string): string {
  const values = vars.split(VARS_SEPARATOR);
  let out = literals[0] ?? '';
  for (let i = 1; i < literals.length; i++) out += (values[i - 1] ?? '') + literals[i]!;
  return out;
}

/** What a run's short rows stand for (table run_texts). */
export interface StoredTexts {
  literals: readonly string[];
  /** What '' in a row's sender stands for; null when the run has no one sender. */
  sender: string | null;
}

/**
 * Puts back the text and sender of a row read as stored (`text`, `vars`, `sender` columns), in place.
 * `vars` is then undefined, so the row reads as it did before texts were stored short.
 */
export function restoreRow(row: { text: string | null; sender: string | null }, texts: StoredTexts | null): void {
  const r = row as { text: string | null; sender: string | null; vars?: string | null | undefined };
  if (r.text === null && r.vars != null && texts !== null) r.text = renderVars(texts.literals, r.vars);
  r.vars = undefined;
  if (r.sender === '' && texts !== null && texts.sender !== null) r.sender = texts.sender;
}

/** SQL for a row's text: stored whole, or rendered from its run's template pieces. */
export const textOf = (t: string): string =>
  `coalesce(${t}.text, stored_text(${t}.vars, (SELECT literals FROM run_texts WHERE rid = ${t}.rid)))`;

/** SQL for a row's sender: '' stands for the run's own sender when the run has one. */
export const senderOf = (t: string): string =>
  `CASE ${t}.sender WHEN '' THEN coalesce((SELECT sender FROM run_texts WHERE rid = ${t}.rid), '') ELSE ${t}.sender END`;

/** Registers `stored_text(vars, literals JSON)` on a connection (textOf's SQL needs it). */
export function registerMessageText(db: Database.Database): void {
  // One run's pieces are read for every row of it: parse each JSON once.
  let lastJson: string | undefined;
  let lastLiterals: string[] = [];
  db.function('stored_text', { deterministic: true }, (vars: unknown, literals: unknown) => {
    if (typeof vars !== 'string' || typeof literals !== 'string') return null;
    if (literals !== lastJson) {
      lastLiterals = JSON.parse(literals) as string[];
      lastJson = literals;
    }
    return renderVars(lastLiterals, vars);
  });
}
