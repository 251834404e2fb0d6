import { describe, expect, it } from 'vitest';
import { isLoopback, requiredToken, tokenMatches } from '../../../src/dashboard/auth.js';
import { isAppError } from '../../../src/shared/errors.js';

describe('dashboard access', () => {
  it('needs no token on loopback, and refuses any other address without one', () => {
    expect(requiredToken('127.0.0.1', undefined)).toBeUndefined();
    expect(requiredToken('::1', '')).toBeUndefined();
    for (const host of ['0.0.0.0', '192.168.1.5', '::']) {
      const err = (() => {
        try {
          return requiredToken(host, undefined);
        } catch (e) {
          return e;
        }
      })();
      expect(isAppError(err, 'ERR_USAGE')).toBe(true);
    }
    expect(requiredToken('0.0.0.0', 'a-long-enough-secret')).toBe('a-long-enough-secret');
    expect(() => requiredToken('0.0.0.0', 'short')).toThrow(/16 or more/);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('evil.example')).toBe(false);
  });

  it('compares tokens of any length without throwing', () => {
    expect(tokenMatches('a-long-enough-secret', 'a-long-enough-secret')).toBe(true);
    expect(tokenMatches('a-long-enough-secreT', 'a-long-enough-secret')).toBe(false);
    expect(tokenMatches('', 'a-long-enough-secret')).toBe(false);
    expect(tokenMatches('x'.repeat(1000), 'a-long-enough-secret')).toBe(false);
  });
});
