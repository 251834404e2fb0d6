/**
 * Seeded randomness for the simulator. Two kinds:
 * - a sequential generator (sfc32) for message and event ids, and
 * - `chance(seed, stream, key, n)`, a pure hash of (seed, what is being decided, recipient, nth
 *   request for that recipient). Concurrent senders interleave requests differently on every run,
 *   so a sequential generator would hand the same fault to a different recipient each time; the
 *   hash gives recipient +1555… the same fate on its nth request however the requests interleave.
 */
import { randomBytes } from 'node:crypto';

export type Rng = () => number;

/** A random 32-bit seed, for when the caller gave none. */
export function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** sfc32: small, fast and good enough for ids and coin flips; returns uint32. */
export function createRng(seed: number): Rng {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: sfc32 needs a few rounds to mix a small seed.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** fmix32 from MurmurHash3: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of `s`, starting from `h`. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A uniform number in [0, 1) determined only by its arguments.
 * @param stream what is being decided ("fault", "outcome"), so decisions are independent
 * @param key usually the recipient number
 * @param n usually how many requests that recipient had before this one
 */
export function chance(seed: number, stream: string, key: string, n: number): number {
  let h = hashString(stream, fmix32(seed ^ 0x5bd1e995));
  h = hashString(key, h);
  h = fmix32(h ^ Math.imul(n + 1, 0x9e3779b1));
  return h / 0x1_0000_0000;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(x: number): string {
  return HEX[(x >>> 24) & 0xff]! + HEX[(x >>> 16) & 0xff]! + HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!;
}

/** An RFC 4122 version-4 UUID drawn from `rng`. */
export function uuidFrom(rng: Rng): string {
  const a = hex32(rng());
  const b = rng();
  const c = rng();
  const d = hex32(rng());
  // Version nibble 4 in the third group, variant bits 10xx in the fourth.
  const b1 = HEX[(b >>> 24) & 0xff]! + HEX[(b >>> 16) & 0xff]!;
  const b2 = HEX[0x40 | ((b >>> 8) & 0x0f)]! + HEX[b & 0xff]!;
  const c1 = HEX[0x80 | ((c >>> 24) & 0x3f)]! + HEX[(c >>> 16) & 0xff]!;
  const c2 = HEX[(c >>> 8) & 0xff]! + HEX[c & 0xff]!;
  return `${a}-${b1}-${b2}-${c1}-${c2}${d}`;
}
