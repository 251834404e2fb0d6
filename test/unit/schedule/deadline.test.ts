import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/shared/clock.js';
import { expiresAt, isExpired } from '../../../src/schedule/deadline.js';
import { decideSend } from '../../../src/schedule/send-gate.js';
import type { SendWindow } from '../../../src/schedule/window.js';

const at = (text: string) => Date.parse(text);
const H = 3_600_000;

/** A clock the test moves by hand. */
function manualClock(start: number): Clock & { set(t: number): void } {
  let now = start;
  return { now: () => now, set: (t) => void (now = t) };
}

describe('deadline', () => {
  const started = at('2026-06-09T02:00:00Z');

  it('expiresAt is start + expires_after; undefined means never', () => {
    expect(expiresAt(started, 12 * H)).toBe(at('2026-06-09T14:00:00Z'));
    expect(expiresAt(started, undefined)).toBeUndefined();
  });

  it('a row is expired from the deadline on, not before', () => {
    const clock = manualClock(started + 12 * H - 1);
    expect(isExpired(started, 12 * H, clock.now())).toBe(false);
    clock.set(started + 12 * H);
    expect(isExpired(started, 12 * H, clock.now())).toBe(true);
    expect(isExpired(started, undefined, clock.now() + 1000 * H)).toBe(false);
  });
});

describe('decideSend', () => {
  const window: SendWindow = { start: '09:00', end: '20:30', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] };
  const ny = { window, zone: 'America/New_York' };
  // Run began Tuesday 2026-06-09 02:00Z (Monday 22:00 EDT); rows expire 12 h later, 14:00Z (10:00 EDT).
  const deadline = at('2026-06-09T14:00:00Z');

  it('defers a recipient in quiet hours until their window opens', () => {
    expect(decideSend({ window: ny, expiresAt: deadline }, at('2026-06-09T02:00:00Z'))).toEqual({
      action: 'defer',
      until: at('2026-06-09T13:00:00Z'), // 09:00 EDT
    });
  });

  it('sends inside the window and says when it closes', () => {
    expect(decideSend({ window: ny, expiresAt: deadline }, at('2026-06-09T13:00:00Z'))).toEqual({
      action: 'send',
      windowClosesAt: at('2026-06-10T00:30:00Z'),
    });
  });

  it('expiry wins over an open window', () => {
    expect(decideSend({ window: ny, expiresAt: deadline }, deadline)).toEqual({ action: 'expire' });
  });

  it('a window that opens after the deadline defers only until the deadline', () => {
    const la = { window, zone: 'America/Los_Angeles' }; // Monday 21:00 PDT; opens 16:00Z, after the deadline
    expect(decideSend({ window: la, expiresAt: deadline }, at('2026-06-09T04:00:00Z'))).toEqual({ action: 'defer', until: deadline });
    expect(decideSend({ window: la, expiresAt: deadline }, deadline)).toEqual({ action: 'expire' });
  });

  it('no window and no deadline: send', () => {
    expect(decideSend({}, 0)).toEqual({ action: 'send' });
    expect(decideSend({ expiresAt: 10 }, 9)).toEqual({ action: 'send' });
  });
});
