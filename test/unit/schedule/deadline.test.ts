import { describe, expect, it } from 'vitest';
import { expiresAt } from '../../../src/schedule/deadline.js';

const at = (text: string) => Date.parse(text);
const H = 3_600_000;

describe('deadline', () => {
  const started = at('2026-06-09T02:00:00Z');

  it('expiresAt is start + expires_after; undefined means never', () => {
    expect(expiresAt(started, 12 * H)).toBe(at('2026-06-09T14:00:00Z'));
    expect(expiresAt(started, undefined)).toBeUndefined();
  });
});
