/**
 * `bulktext webhooks`: runs the signed webhook receiver against the ledger until interrupted, one line
 * per event on stdout (rejected requests and errors on stderr).
 */
import { existingLedgerPath } from '../ledger-file.js';
import { AppError } from '../../shared/errors.js';
import { describeOutcome } from '../../webhooks/apply-event.js';
import type { ReceiverLog } from '../../webhooks/receiver.js';
import { startWebhooks } from '../../api/servers.js';
import { parsePublicKey } from '../../webhooks/verify.js';
import { untilAborted } from '../../shared/clock.js';
import type { Io } from '../io.js';

export interface WebhooksOptions {
  /** @default 8080 */
  port?: number | undefined;
  /** @default "127.0.0.1" */
  host?: string | undefined;
  /** @default "/telnyx" */
  path?: string | undefined;
  db?: string | undefined;
  /** Base64 Ed25519 public key; else TELNYX_PUBLIC_KEY. */
  publicKey?: string | undefined;
}

export const defaultWebhooksPort = 8080;

/** The key from the option, else TELNYX_PUBLIC_KEY; ERR_WEBHOOK_KEY (exit 2) when absent or malformed. */
export function resolvePublicKey(option: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const key = (option ?? env.TELNYX_PUBLIC_KEY ?? '').trim();
  if (key === '') {
    throw new AppError(
      'ERR_WEBHOOK_KEY',
      'no webhook public key: pass --public-key or set TELNYX_PUBLIC_KEY (Mission Control Portal → Keys & Credentials → Public Key)',
    );
  }
  parsePublicKey(key);
  return key;
}

/** One log line (without the newline) for a receiver log entry. */
export function formatReceiverLog(entry: ReceiverLog, at: number): string {
  const time = new Date(at).toISOString();
  switch (entry.type) {
    case 'event':
      return `${time} ${entry.eventType} ${entry.eventId} ${entry.duplicate || entry.outcome === undefined ? 'duplicate, ignored' : describeOutcome(entry.outcome)}`;
    case 'retried':
      return `${time} ${entry.eventType} ${entry.eventId} (stored earlier) ${describeOutcome(entry.outcome)}`;
    case 'rejected':
      return `${time} rejected ${entry.status} from ${entry.remote ?? '?'}: ${entry.reason}`;
    case 'error':
      return `${time} error: ${entry.detail}`;
  }
}

type Rejected = Extract<ReceiverLog, { type: 'rejected' }>;

/**
 * Rejected requests, logged at most once a second: the first of a second at once, the rest as one line
 * with counts by reason. Someone posting junk 500 times a second must not write 500 lines a second.
 */
export function createRejectionLog(write: (line: string) => void, now: () => number = Date.now): { add(entry: Rejected): void; close(): void } {
  let lastLine = Number.NEGATIVE_INFINITY;
  let held = 0;
  const reasons = new Map<string, number>();
  const flush = () => {
    if (held === 0) return;
    const counts = [...reasons].map(([reason, n]) => `${n} × ${reason}`).join(', ');
    write(`${new Date(now()).toISOString()} rejected ${held} more request${held === 1 ? '' : 's'} in the last second: ${counts}`);
    held = 0;
    reasons.clear();
    lastLine = now();
  };
  const timer = setInterval(flush, 1000);
  timer.unref();
  return {
    add: (entry) => {
      if (held === 0 && now() - lastLine >= 1000) {
        lastLine = now();
        write(formatReceiverLog(entry, lastLine));
        return;
      }
      held++;
      const key = `${entry.status} ${entry.reason}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    },
    close: () => {
      clearInterval(timer);
      flush();
    },
  };
}

export async function webhooksCommand(o: WebhooksOptions, io: Io): Promise<number> {
  const publicKey = resolvePublicKey(o.publicKey, io.env);
  if (io.signal.aborted) return 0;
  // Refuse before listening: answering 200 to a STOP stored in a fresh, mistyped ledger would lose it.
  const dbPath = existingLedgerPath(o.db, io);
  const rejections = createRejectionLog((line) => io.stderr(`${line}\n`));
  try {
    const receiver = await startWebhooks({
      db: dbPath,
      publicKey,
      port: o.port ?? defaultWebhooksPort,
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.path === undefined ? {} : { path: o.path }),
      onLog: (entry) => {
        if (entry.type === 'rejected') return rejections.add(entry);
        const line = `${formatReceiverLog(entry, Date.now())}\n`;
        if (entry.type === 'event' || entry.type === 'retried') io.stdout(line);
        else io.stderr(line);
      },
    });
    // The address actually bound (0.0.0.0 listens on every interface), not one to connect to.
    const route = new URL(receiver.url).pathname;
    io.stderr(`webhook receiver listening on ${receiver.listening}, path ${route} (ledger ${receiver.db}); Ctrl+C to stop\n`);
    await untilAborted(io.signal);
    await receiver.close();
    io.stderr('webhook receiver stopped\n');
    return 0;
  } finally {
    rejections.close();
  }
}
