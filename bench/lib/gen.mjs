/**
 * Seeded benchmark inputs under bench/out/: recipient CSVs and job files. Same seed, same bytes, so a
 * second run reuses the file it finds.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickSender } from '../../dist/campaign/senders.js';

export const OUT = fileURLToPath(new URL('../out/', import.meta.url));
mkdirSync(OUT, { recursive: true });

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Real US area codes; exchanges 200-999 except N11 and 555 are valid in libphonenumber's metadata.
const AREA_CODES = [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 325, 330, 334, 336, 337, 339, 347, 351, 352, 360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419, 423, 425, 430, 432, 434, 435, 440, 443, 469, 478, 479, 480, 484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518, 520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 575, 580, 585, 586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662, 678, 682, 701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720, 724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775, 781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 878, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989];
const FIRST = ['Ava', 'Ben', 'Chloe', 'Dan', 'Eve', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jack', 'Kira', 'Leo', 'Mia', 'Noah', 'Olga', 'Paul'];

/** `count` distinct valid US numbers in E.164, seeded. */
export function* phoneNumbers(count, seed) {
  const rand = mulberry32(seed);
  const seen = new Set();
  while (seen.size < count) {
    const npa = AREA_CODES[Math.floor(rand() * AREA_CODES.length)];
    let nxx = 200 + Math.floor(rand() * 800);
    if (nxx % 100 === 11 || nxx === 555) continue;
    const line = Math.floor(rand() * 10000);
    const e164 = `+1${npa}${nxx}${String(line).padStart(4, '0')}`;
    if (seen.has(e164)) continue;
    seen.add(e164);
    yield e164;
  }
}

/** Writes the number in one of the ways people keep them in spreadsheets. */
function written(e164, r) {
  const d = e164.slice(2);
  if (r < 0.5) return e164;
  if (r < 0.75) return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
  return `${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)}`;
}

async function writeLines(file, lines) {
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  renameSync(tmp, file);
}

/** A recipients CSV (phone, first_name, order_id) of `rows` distinct numbers; reused if present. */
export async function recipientsCsv(rows, seed = 1) {
  const file = path.join(OUT, `recipients-${rows}-s${seed}.csv`);
  if (existsSync(file)) return file;
  const rand = mulberry32(seed ^ 0x9e3779b9);
  await writeLines(file, (function* () {
    yield 'phone,first_name,order_id\n';
    let i = 0;
    for (const e164 of phoneNumbers(rows, seed)) {
      i++;
      yield `${written(e164, rand())},${FIRST[i % FIRST.length]},ORD-${100000 + i}\n`;
    }
  })());
  return file;
}

const VALID_NXX = Array.from({ length: 800 }, (_, i) => 200 + i).filter((n) => n % 100 !== 11 && n !== 555);
const BAD_NUMBERS = ['12345', 'n/a', '', '+1 (000) 000-0000'];

/** The k-th of up to ~8.6M distinct valid US numbers, scattered (distinct k, distinct number; k < `of`). */
function scaledNumber(k, of) {
  const i = (k * 5_000_011) % of; // a bijection on [0, of) when `of` has no factor but 2 and 5
  const line = i % 10_000;
  const q = Math.floor(i / 10_000);
  const a = q % AREA_CODES.length;
  const b = Math.floor(q / AREA_CODES.length);
  return `+1${AREA_CODES[a]}${VALID_NXX[(b * 263 + a * 17 + line * 31) % VALID_NXX.length]}${String(line).padStart(4, '0')}`;
}

/**
 * The scale benchmark's list (issue 17): `rows` rows (a multiple of 10), of which 8 in 10 are a new valid
 * number, 1 in 10 a number an earlier row already had and 1 in 10 no valid number. Generated without a set
 * of the numbers, so writing 10M rows takes no more memory than writing 1,000.
 */
export async function scaleCsv(rows, seed = 3) {
  const file = path.join(OUT, `scale-${rows}-s${seed}.csv`);
  if (existsSync(file)) return file;
  const distinct = (rows / 10) * 8;
  const rand = mulberry32(seed);
  await writeLines(file, (function* () {
    yield 'phone,first_name,order_id\n';
    let made = 0;
    for (let n = 1; n <= rows; n++) {
      const kind = n % 10;
      const phone =
        kind === 3 ? BAD_NUMBERS[n % BAD_NUMBERS.length]
        : kind === 7 ? written(scaledNumber(Math.floor(rand() * made), distinct), rand())
        : written(scaledNumber(made++, distinct), rand());
      yield `${phone},${FIRST[n % FIRST.length]},ORD-${100000 + n}\n`;
    }
  })());
  return file;
}

/**
 * A CSV where `senders.length` long codes each get exactly `perSender` recipients under bulktext's
 * sticky sender choice (so every sender is busy for the whole run), interleaved round-robin.
 */
export async function balancedCsv(senders, perSender, seed = 7) {
  const file = path.join(OUT, `balanced-${senders.length}x${perSender}-s${seed}.csv`);
  if (existsSync(file)) return file;
  const spec = { from: senders, mode: 'long_code' };
  const buckets = new Map(senders.map((s) => [s, []]));
  let full = 0;
  for (const e164 of phoneNumbers(senders.length * perSender * 4, seed)) {
    const b = buckets.get(pickSender(spec, e164));
    if (b.length < perSender) {
      b.push(e164);
      if (b.length === perSender && ++full === senders.length) break;
    }
  }
  if (full < senders.length) throw new Error('balancedCsv: not enough numbers generated');
  await writeLines(file, (function* () {
    yield 'phone,first_name,order_id\n';
    for (let k = 0; k < perSender; k++) for (const s of senders) yield `${buckets.get(s)[k]},Sam,ORD-${k}\n`;
  })());
  return file;
}

/** `n` long codes (+1 844 toll-free style is avoided: these are plain 10DLC-looking numbers). */
export function longCodes(n) {
  return Array.from({ length: n }, (_, i) => `+1${AREA_CODES[i % AREA_CODES.length]}${String(2000000 + i).padStart(7, '0')}`);
}

/** Writes a job file (JSON is valid YAML) next to the inputs; returns its path. */
export function jobFile(name, { source, from, mode = 'long_code', rate }) {
  const file = path.join(OUT, `${name}.json`);
  const job = {
    name,
    source: { path: source, phone_field: 'phone', default_country: 'US' },
    sender: { mode, from },
    message: { text: 'Hi {{first_name}}, your order {{order_id}} ships today. Reply STOP to opt out.' },
    rate,
    retry: { attempts: 3, min_delay_ms: 100, max_delay_ms: 1000 },
  };
  writeFileSync(file, `${JSON.stringify(job, null, 2)}\n`);
  return file;
}
