/**
 * Progress on stderr: a live bar redrawn in place on a terminal, a plain line every few seconds
 * otherwise (logs, CI), nothing with --quiet.
 */
import type { DispatchEvent } from '../dispatch/dispatcher.js';

export interface ProgressSource {
  readonly effectiveRate: number;
  readonly inFlight: number;
}

export interface ProgressOptions {
  write: (text: string) => void;
  isTTY: boolean;
  quiet: boolean;
  /** Rows this invocation will try to send. */
  toSend: number;
  /** Rows skipped at ingest (shown, not sent). */
  skipped: number;
  ceiling: number;
  /** @default 200 on a TTY, 5000 otherwise */
  intervalMs?: number;
}

export interface Progress {
  onEvent(event: DispatchEvent): void;
  attach(source: ProgressSource): void;
  stop(): void;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export function createProgress(o: ProgressOptions): Progress {
  const counts = { sent: 0, failed: 0, unknown: 0, retries: 0, odd: 0 };
  let source: ProgressSource | undefined;
  /** The Telnyx code of the last throttled answer (10011, 40318), for the line while the run is slowed. */
  let throttledBy: string | null = null;
  let note: string | undefined;
  let dailyCap: string | undefined;
  // Outcomes per 250 ms bucket over the last 5 s, for the current rate.
  const buckets = new Array<number>(20).fill(0);
  let bucketAt = Math.floor(performance.now() / 250);
  const roll = () => {
    const nowBucket = Math.floor(performance.now() / 250);
    for (let b = bucketAt + 1; b <= nowBucket && b <= bucketAt + 20; b++) buckets[b % 20] = 0;
    bucketAt = nowBucket;
  };
  const started = performance.now();

  const line = (): string => {
    roll();
    const done = counts.sent + counts.failed + counts.unknown;
    const windowS = Math.min(5, (performance.now() - started) / 1000) || 1;
    const rate = buckets.reduce((a, b) => a + b, 0) / windowS;
    const left = o.toSend - done;
    const pct = o.toSend === 0 ? 100 : Math.floor((done / o.toSend) * 100);
    const limit = source === undefined ? o.ceiling : source.effectiveRate;
    const limitText =
      limit < o.ceiling ? `throttled by Telnyx${throttledBy === null ? '' : ` (${throttledBy})`}: limit ${limit.toFixed(1)}/s of ${o.ceiling}/s` : `limit ${o.ceiling}/s`;
    const parts = [
      `sent ${counts.sent}`,
      `failed ${counts.failed}`,
      `unknown ${counts.unknown}`,
      `skipped ${o.skipped}`,
      `${rate.toFixed(1)} msg/s (${limitText})`,
      `ETA ${rate > 0 ? duration(left / rate) : '--:--'}`,
    ];
    if (counts.retries > 0) parts.push(`retries ${counts.retries}`);
    if (counts.odd > 0) parts.push(`odd answers ${counts.odd} (sent; fields recorded as absent)`);
    if (note !== undefined) parts.push(note);
    if (!o.isTTY) return `${pct}% ${done}/${o.toSend} · ${parts.join(' · ')}`;
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${parts.join(' · ')}`;
  };

  let timer = o.quiet
    ? undefined
    : setInterval(
        () => o.write(o.isTTY ? `\r\x1b[2K${line()}` : `${new Date().toISOString()} ${line()}\n`),
        o.intervalMs ?? (o.isTTY ? 200 : 5000),
      );
  timer?.unref();

  return {
    onEvent(event) {
      if (event.type === 'outcome') {
        counts[event.status]++;
        roll();
        buckets[bucketAt % 20]! += 1;
      } else if (event.type === 'retry') {
        counts.retries++;
        if (event.kind === 'throttled') throttledBy = event.code;
      } else if (event.type === 'odd_answer') {
        counts.odd++;
      } else if (event.type === 'deferred') {
        // A daily cap says so; a send window is the usual reason and keeps its short wording.
        if (event.reason?.includes('daily cap') === true) dailyCap = event.reason;
      } else if (event.type === 'waiting') {
        const until = event.until === undefined ? '' : new Date(event.until).toISOString();
        note =
          event.until === undefined
            ? undefined
            : dailyCap !== undefined
              ? `waiting until ${until}: ${dailyCap}`
              : `waiting for the send window (opens ${until})`;
      }
    },
    attach(s) {
      source = s;
    },
    stop() {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      o.write(o.isTTY ? `\r\x1b[2K${line()}\n` : `${new Date().toISOString()} ${line()}\n`);
    },
  };
}

/** The progress of sending a run whose rows stand at `before` (pending to send, skipped shown). */
export function runProgressLine(io: { stderr: (text: string) => void; isTTY: boolean }, quiet: boolean, before: { pending: number; skipped: number }, ceiling: number): Progress {
  return createProgress({ write: io.stderr, isTTY: io.isTTY, quiet, toSend: before.pending, skipped: before.skipped, ceiling });
}
