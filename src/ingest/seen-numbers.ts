/**
 * Ingest's duplicate check in bounded memory: which row first used a number, exact, whatever the list's
 * length. The latest numbers sit in a fixed-size hash table (number-index.ts); when it is full they move,
 * sorted, to a temporary SQLite database (ledger/number-spill.ts) and into a Bloom filter
 * (number-filter.ts) sized once for the list. A lookup that misses the table asks the database only when
 * the filter says "maybe": for a number seen before (a real duplicate) or a false positive (~1 %), which
 * the database then answers exactly — so two distinct numbers are never taken for one.
 *
 * Why not the alternatives: a table that grows with the list was 200 MB at 8M numbers; a SQLite index
 * filled one number at a time inserts at random pages (25,000–50,000 numbers/s, against the table's
 * ~1M/s); marking duplicates after the insert with one sorting statement would leave `plan` (which writes
 * nothing) and run's plan estimate counting rows that later turn out to be duplicates, and the first
 * examples of each kind in a different order than the rows arrive.
 */
import { NumberSpill } from '../ledger/number-spill.js';
import { NumberFilter } from './number-filter.js';
import { NumberIndex } from './number-index.js';

export interface SeenNumbersOptions {
  /** Slots of the in-memory table (12 bytes each; it moves its numbers out at three quarters full). @default 2^20 */
  slots?: number;
  /** The most bytes the filter may take. @default 32 MiB */
  filterBytes?: number;
  /** Group MMS: groups held in memory before they move out (SeenGroups). @default 65536 */
  groups?: number;
}

const DEFAULT_SLOTS = 2 ** 20;
const DEFAULT_FILTER_BYTES = 32 * 2 ** 20;

export class SeenNumbers {
  readonly #recent: NumberIndex;
  readonly #maxSlots: number;
  readonly #filterBytes: number;
  /** Numbers the list is expected to hold (sizes the filter). */
  #expected = 0;
  #filter: NumberFilter | undefined;
  #spill: NumberSpill<number> | undefined;
  #moved = 0;
  #asked = 0;
  /** Reused for every move out (the table holds the same most each time). */
  #keys: Float64Array | undefined;
  #rows: Uint32Array | undefined;

  constructor(options: SeenNumbersOptions = {}) {
    this.#maxSlots = new NumberIndex(options.slots ?? DEFAULT_SLOTS).slots;
    this.#filterBytes = options.filterBytes ?? DEFAULT_FILTER_BYTES;
    this.#recent = new NumberIndex(Math.min(4096, this.#maxSlots));
  }

  /** Numbers seen so far. */
  get size(): number {
    return this.#moved + this.#recent.size;
  }

  /** Numbers moved out of memory so far (0 for a list the table holds whole). */
  get spilled(): number {
    return this.#moved;
  }

  /** Lookups the filter let through to the temporary database (real duplicates and false positives). */
  get asked(): number {
    return this.#asked;
  }

  /** Sizes the table and, when it comes to that, the filter, for `expected` numbers. */
  reserve(expected: number): void {
    this.#expected = Math.max(this.#expected, expected);
    this.#recent.reserve(Math.min(expected, this.#flushAt()));
  }

  /** The row that first used `number`, or 0 if none did. */
  get(number: number): number {
    const row = this.#recent.get(number);
    if (row !== 0 || this.#spill === undefined || !this.#filter!.has(number)) return row;
    this.#asked++;
    return this.#spill.get(number);
  }

  /** Records `row` as the first to use `number` (which `get` has just said no row used). */
  add(number: number, row: number): void {
    if (this.#recent.size >= this.#flushAt()) this.#moveOut();
    this.#recent.add(number, row);
  }

  /** Deletes the temporary database, if there is one. */
  close(): void {
    this.#spill?.close();
  }

  /** The most the table holds before it would grow past its slots. */
  #flushAt(): number {
    return (this.#maxSlots / 4) * 3 - 1;
  }

  #moveOut(): void {
    const size = this.#recent.size;
    this.#keys ??= new Float64Array(size);
    this.#rows ??= new Uint32Array(size);
    const n = this.#recent.sortedInto(this.#keys, this.#rows);
    const keys = this.#keys.subarray(0, n);
    this.#spill ??= new NumberSpill<number>('integer');
    // Sized for every number the list may still bring, at least twice what has been seen so far.
    const filter = (this.#filter ??= new NumberFilter(Math.max(this.#expected, 2 * n), this.#filterBytes));
    this.#spill.addSorted(keys, this.#rows.subarray(0, n));
    for (let j = 0; j < n; j++) filter.add(keys[j]!);
    this.#moved += n;
    this.#recent.clear();
  }
}

/** Group MMS rows: the same check over each group's sorted numbers joined by ',' (seen-numbers.ts' scheme). */
export class SeenGroups {
  readonly #recent = new Map<string, number>();
  readonly #max: number;
  readonly #filterBytes: number;
  #filter: NumberFilter | undefined;
  #spill: NumberSpill<string> | undefined;

  constructor(options: SeenNumbersOptions = {}) {
    this.#max = options.groups ?? 65_536;
    this.#filterBytes = options.filterBytes ?? DEFAULT_FILTER_BYTES;
  }

  /** The row that first used `group`, or 0 if none did. */
  get(group: string): number {
    const row = this.#recent.get(group);
    if (row !== undefined) return row;
    if (this.#spill === undefined || !this.#filter!.has(textHash(group))) return 0;
    return this.#spill.get(group);
  }

  /** Records `row` as the first to use `group` (which `get` has just said no row used). */
  add(group: string, row: number): void {
    if (this.#recent.size >= this.#max) this.#moveOut();
    this.#recent.set(group, row);
  }

  close(): void {
    this.#spill?.close();
  }

  #moveOut(): void {
    const keys = [...this.#recent.keys()].sort();
    this.#spill ??= new NumberSpill<string>('text');
    const filter = (this.#filter ??= new NumberFilter(16 * keys.length, this.#filterBytes));
    this.#spill.addSorted(keys, keys.map((k) => this.#recent.get(k)!));
    for (const key of keys) filter.add(textHash(key));
    this.#recent.clear();
  }
}

/** A 52-bit FNV-1a-style hash of a string, as the filter's integer key. */
function textHash(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) + (b >>> 12) * 4294967296;
}
