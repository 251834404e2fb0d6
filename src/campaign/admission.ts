/**
 * Turns a job's `window` and `expires_after` into the dispatcher's per-row admission decision.
 * A window's state only changes at the instant `windowState` returns, so the state is cached per zone
 * until then: the check costs a map lookup on the hot path, not an Intl call per message.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { Admission, AdmissionDecision, PendingMessage } from '../dispatch/ports.js';
import { expiresAt } from '../schedule/deadline.js';
import { resolveZone, windowState, type SendWindow, type WindowState } from '../schedule/window.js';

export function describeWindow(w: SendWindow, zone: string): string {
  const days = w.days.length === 7 ? 'every day' : w.days.join(',');
  return `${w.start}-${w.end} ${days} ${zone}`;
}

export function createAdmission(
  spec: JobSpec,
  runStartedAt: number,
  options: { wait: boolean; optedOut?: { has(number: string): boolean } },
): Admission | undefined {
  const window = spec.window;
  const deadline = expiresAt(runStartedAt, spec.expires_after);
  const optedOut = options.optedOut;
  if (window === undefined && deadline === undefined && optedOut === undefined) return undefined;
  const cache = new Map<string, { state: WindowState; until: number }>();

  const stateIn = (zone: string, now: number): WindowState => {
    const hit = cache.get(zone);
    if (hit !== undefined && now < hit.until) return hit.state;
    const state = windowState(window!, now, zone);
    cache.set(zone, { state, until: state.open ? state.closesAt : state.opensAt });
    return state;
  };

  return {
    wait: options.wait,
    ...(deadline === undefined ? {} : { deadline }),
    decide(msg: PendingMessage, now: number): AdmissionDecision {
      if (optedOut !== undefined) {
        // A group MMS row lists its numbers joined with ','.
        const stopped = msg.to.split(',').find((n) => optedOut.has(n));
        if (stopped !== undefined) return { action: 'skip', code: 'suppressed', reason: `suppressed: ${stopped} opted out after the run began` };
      }
      if (deadline !== undefined && now >= deadline) {
        return { action: 'expire', reason: `not sent within expires_after (deadline ${new Date(deadline).toISOString()})` };
      }
      if (window === undefined) return { action: 'send' };
      const zone = resolveZone(window, msg.tz ?? undefined).zone;
      // Ingest skips rows without a usable zone; a row reaching here without one is held, never sent blind.
      if (zone === undefined) return { action: 'expire', reason: 'no valid time zone for this recipient' };
      const state = stateIn(zone, now);
      if (state.open) return { action: 'send' };
      const until = deadline === undefined ? state.opensAt : Math.min(state.opensAt, deadline);
      return {
        action: 'defer',
        until,
        reason: `outside the send window ${describeWindow(window, zone)}; opens ${new Date(state.opensAt).toISOString()}`,
      };
    },
  };
}
