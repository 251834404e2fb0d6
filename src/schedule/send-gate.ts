/**
 * The per-row decision a dispatcher makes before sending, combining the run deadline and the
 * recipient's send window. Expiry wins over the window: a row past its deadline is never sent.
 */
import { windowState } from './window.js';
import type { SendWindow } from './window.js';

export type SendDecision =
  | { action: 'send'; windowClosesAt?: number }
  | { action: 'defer'; until: number }
  | { action: 'expire' };

export interface SendGate {
  /** The recipient's window and the zone to judge it in (from resolveZone); absent: any time. */
  window?: { window: SendWindow; zone: string };
  /** From expiresAt; absent: never expires. */
  expiresAt?: number;
}

/**
 * Send now, defer, or expire. A deferred row's `until` is when to look again: the window's
 * opening, or the deadline if that comes first (the row will then expire, not wait on).
 * `windowClosesAt` lets a caller stop handing out rows for this zone when the window shuts.
 */
export function decideSend(gate: SendGate, now: number): SendDecision {
  if (gate.expiresAt !== undefined && now >= gate.expiresAt) return { action: 'expire' };
  if (gate.window === undefined) return { action: 'send' };
  const state = windowState(gate.window.window, now, gate.window.zone);
  if (state.open) return { action: 'send', windowClosesAt: state.closesAt };
  const until = gate.expiresAt === undefined ? state.opensAt : Math.min(state.opensAt, gate.expiresAt);
  return { action: 'defer', until };
}
