import { describe, expect, it } from 'vitest';
import { lockoutAfter, loginThrottleKeys, retryAfterSeconds } from '../../src/domain/login-throttle.js';
import { socketVerdict } from '../../src/domain/socket-credentials.js';
import { displayNameProblem, slugOf } from '../../src/domain/names.js';
import { effectivePrivileges, grantsToPrivileges, privilegesOf, privilegesOfUser } from '../../src/domain/privileges.js';

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

describe('access profiles', () => {
  it('EXPORT_IMPORT is the pair EXPORT_ASSETS + IMPORT_ASSETS, either way round', () => {
    expect(effectivePrivileges(['EXPORT_IMPORT'])).toEqual(['EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS']);
    expect(effectivePrivileges(['IMPORT_ASSETS', 'EXPORT_ASSETS'])).toEqual(['EXPORT_IMPORT', 'EXPORT_ASSETS', 'IMPORT_ASSETS']);
    expect(effectivePrivileges(['EXPORT_ASSETS'])).toEqual(['EXPORT_ASSETS']);
  });

  it('a user holds their role’s privileges and their groups’, built-in profiles held by a group included', () => {
    expect(privilegesOfUser('VIEWER', grantsToPrivileges(['MANAGE_PROMOTIONS', 'MANAGE_PROMOTIONS']))).toEqual(['MANAGE_PROMOTIONS']);
    expect(privilegesOfUser('VIEWER', grantsToPrivileges(['role:API_PROVIDER']))).toEqual(privilegesOf.API_PROVIDER);
    // Nothing grants what a profile may not: an unknown marker or GATEWAY_AGENT slipped into a row.
    expect(privilegesOfUser('VIEWER', grantsToPrivileges(['role:ROOT', 'GATEWAY_AGENT', 'WIDGETS']))).toEqual([]);
    expect(privilegesOf.SUPER_ADMIN).toContain('EXPORT_IMPORT');
  });

  it('the close reason names EXPORT_IMPORT only when neither part of it is named', () => {
    const all = { id: 'u', privileges: privilegesOf.SUPER_ADMIN };
    expect(socketVerdict(all, { id: 'u', privileges: effectivePrivileges(['MANAGE_ASSETS', 'MANAGE_PROMOTIONS', 'MANAGE_GATEWAY_GROUPS', 'MANAGE_USERS', 'EXPORT_ASSETS']) }, true)).toEqual({
      keep: false,
      reason: 'privileges reduced (lost IMPORT_ASSETS)',
    });
  });
});

describe('display names', () => {
  it('takes names as users type them and refuses control characters, NUL, padding and huge names', () => {
    expect(displayNameProblem('Registry for Test')).toBeNull();
    expect(displayNameProblem('Équipe « prod »')).toBeNull();
    for (const bad of ['', ' padded', 'padded ', 'two  spaces', 'tab\there', 'line\nbreak', 'nul\u0000', 'del\u007f', 'x'.repeat(101), 'sep\u2028']) {
      expect(displayNameProblem(bad), JSON.stringify(bad)).not.toBeNull();
    }
  });

  it('slugs serve URLs and keys', () => {
    expect(slugOf('Registry for Test')).toBe('registry-for-test');
    expect(slugOf('  Équipe « prod » 2 ')).toBe('equipe-prod-2');
    expect(slugOf('!!!')).toBe('item');
  });
});
