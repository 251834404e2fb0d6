/** The hint builder for a command: the program as invoked (`npx bulktext` under npx) and the operator's `--db`. */
import { commandHint, programName, type CommandHint } from '../shared/command-line.js';
import type { Io } from './io.js';
import { dbForHints } from './ledger-file.js';

export function hintFor(db: string | undefined, io: Pick<Io, 'env'>): CommandHint {
  return commandHint({ db: dbForHints(db), program: programName(io.env) });
}
