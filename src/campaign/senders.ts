/**
 * Which sender a recipient is pinned to. With several `from` numbers a recipient always gets the same
 * one (a stable FNV-1a hash of the number), so a conversation stays on one number across runs.
 * The key is also what the per-sender rate limit applies to.
 */
import type { JobSpec } from '../config/job-spec.js';

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function pickSender(sender: JobSpec['sender'], to: string): string {
  const { from } = sender;
  if (from.length === 1) return from[0]!;
  if (from.length > 1) return from[fnv1a(to) % from.length]!;
  // number_pool, or messages with only a profile: Telnyx picks the number; the profile is the sender.
  return sender.messaging_profile_id ?? '';
}

/** How many distinct senders the run spreads over (sizes the dispatcher's admission window). */
export function senderCount(sender: JobSpec['sender']): number {
  return Math.max(1, sender.from.length);
}
