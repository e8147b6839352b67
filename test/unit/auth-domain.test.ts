import { describe, expect, it } from 'vitest';
import { lockoutAfter, loginThrottleKeys, retryAfterSeconds } from '../../src/domain/login-throttle.js';
import { socketVerdict } from '../../src/domain/socket-credentials.js';

describe('lockoutAfter', () => {
  const policy = { freeFailures: 3, baseMs: 1000, maxMs: 60_000 };
  it('lets the free failures pass, then doubles from the base up to the cap', () => {
    expect([0, 1, 2].map((n) => lockoutAfter(n, policy))).toEqual([0, 0, 0]);
    expect([3, 4, 5, 6, 8, 9, 100, 1e9].map((n) => lockoutAfter(n, policy))).toEqual([1000, 2000, 4000, 8000, 32_000, 60_000, 60_000, 60_000]);
    expect(lockoutAfter(Number.NaN, policy)).toBe(0);
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up and never says 0 while locked', () => {
    const now = new Date(0);
    expect(retryAfterSeconds(new Date(1), now)).toBe(1);
    expect(retryAfterSeconds(new Date(1500), now)).toBe(2);
    expect(retryAfterSeconds(new Date(-5), now)).toBe(1);
  });
});

describe('loginThrottleKeys', () => {
  it('digests usernames to fixed-size keys and keeps them apart from addresses', () => {
    const huge = loginThrottleKeys('x'.repeat(100_000), '127.0.0.1');
    expect(huge.username.length).toBeLessThan(60);
    expect(huge.address).toBe('addr:127.0.0.1');
    expect(loginThrottleKeys('Admin', null).username).not.toBe(loginThrottleKeys('admin', null).username);
    expect(loginThrottleKeys('a', null).address).toBeNull();
  });
});

describe('socketVerdict', () => {
  const admin = { id: 'u1', privileges: ['MANAGE_ASSETS', 'MANAGE_USERS'] as const };
  it('keeps anonymous sockets and holders with at least their privileges', () => {
    expect(socketVerdict(null, null, false)).toEqual({ keep: true });
    expect(socketVerdict(admin, admin, true)).toEqual({ keep: true });
    expect(socketVerdict({ id: 'u1', privileges: [] }, admin, true)).toEqual({ keep: true });
  });
  it('closes for a credential gone, another holder, or lost privileges', () => {
    expect(socketVerdict(admin, null, true)).toEqual({ keep: false, reason: 'credential revoked or expired' });
    expect(socketVerdict(admin, { ...admin, id: 'u2' }, true)).toMatchObject({ keep: false });
    expect(socketVerdict(admin, { id: 'u1', privileges: ['MANAGE_ASSETS'] }, true)).toEqual({ keep: false, reason: 'privileges reduced (lost MANAGE_USERS)' });
  });
});
