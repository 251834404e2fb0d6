/**
 * The state tables of ledger/states.ts as PostgreSQL: the rows of each transition table and the plpgsql
 * trigger that refuses any other move, generated from states.ts so the PostgreSQL schema cannot be a
 * hand-copied list that drifts. A migration that changes a table must rewrite its rows (with these
 * functions) in a new migration; a test compares the stored tables with states.ts move for move.
 */
import { rowStatuses, runStates, runTransitions, slotStates, slotTransitions, sqlLiteral as literal, transitions } from '../states.js';

export interface StateMachine {
  /** The transition table's name (message_transitions, …). */
  table: string;
  /** The table and column the machine governs. */
  target: string;
  column: string;
  /** What the error calls one row: 'run ' || OLD.rid, as SQL. */
  label: string;
  noun: string;
  states: readonly string[];
  moves: Readonly<Record<string, readonly string[]>>;
}

/** A machine whose transition table is `<noun>_transitions`. */
function machine(noun: string, target: string, column: string, label: string, states: readonly string[], moves: StateMachine['moves']): StateMachine {
  return { table: `${noun}_transitions`, target, column, label, noun, states, moves };
}

export const messageMachine = machine('message', 'messages', 'status', `'run ' || OLD.rid || ' row ' || OLD.row`, rowStatuses, transitions);
export const runMachine = machine('run', 'runs', 'state', `'run ' || OLD.rid`, runStates, runTransitions);
export const slotMachine = machine('slot', 'schedule_slots', 'state', `'job ' || OLD.job_name || ' slot ' || OLD.slot`, slotStates, slotTransitions);

export const stateMachines: readonly StateMachine[] = [messageMachine, runMachine, slotMachine];

/**
 * The transition table, its rows, and a BEFORE UPDATE OF <column> trigger: as SQLite's (migration 11),
 * every assignment of the column is checked, also one that keeps the value (running → running is a listed
 * move, pending → pending is not). The message names both states.
 */
export function stateMachineSql(m: StateMachine): string {
  const rows = m.states.flatMap((from) => (m.moves[from] ?? []).map((to) => `(${literal(from)}, ${literal(to)})`));
  return `
    CREATE TABLE ${m.table} (
      from_state    text NOT NULL,
      to_state      text NOT NULL,
      PRIMARY KEY (from_state, to_state)
    );
    ${rows.length === 0 ? '' : `INSERT INTO ${m.table} (from_state, to_state) VALUES ${rows.join(', ')};`}
    CREATE FUNCTION ${m.target}_${m.column}_move() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM ${m.table} WHERE from_state = OLD.${m.column} AND to_state = NEW.${m.column}) THEN
        RAISE EXCEPTION 'illegal ${m.noun} move: % is % and cannot become %', ${m.label}, OLD.${m.column}, coalesce(NEW.${m.column}, 'NULL')
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${m.target}_${m.column}_move BEFORE UPDATE OF ${m.column} ON ${m.target}
      FOR EACH ROW EXECUTE FUNCTION ${m.target}_${m.column}_move();`;
}
