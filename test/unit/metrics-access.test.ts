import { describe, expect, it } from 'vitest';
import { isLoopback, metricsAccess } from '../../src/domain/metrics-access.js';
import { BoundedNames } from '../../src/observability/bounded-labels.js';

const TOKEN = 'a-metrics-token-of-some-length';

describe('metrics access', () => {
  it('with a token: the bearer token and nothing else, from anywhere', () => {
    expect(metricsAccess(TOKEN, { remoteAddress: '203.0.113.1', authorization: `Bearer ${TOKEN}`, forwarded: true })).toBe('allowed');
    expect(metricsAccess(TOKEN, { remoteAddress: '127.0.0.1', authorization: undefined, forwarded: false })).toBe('unauthenticated');
    expect(metricsAccess(TOKEN, { remoteAddress: '127.0.0.1', authorization: `Bearer ${TOKEN}x`, forwarded: false })).toBe('unauthenticated');
    expect(metricsAccess(TOKEN, { remoteAddress: '127.0.0.1', authorization: `Basic ${TOKEN}`, forwarded: false })).toBe('unauthenticated');
    expect(metricsAccess(TOKEN, { remoteAddress: '127.0.0.1', authorization: `Bearer ${TOKEN}\u0000`, forwarded: false })).toBe('unauthenticated');
  });

  it('without a token: loopback only, and not through a proxy', () => {
    expect(metricsAccess(undefined, { remoteAddress: '127.0.0.1', authorization: undefined, forwarded: false })).toBe('allowed');
    expect(metricsAccess(undefined, { remoteAddress: '::ffff:127.0.0.1', authorization: undefined, forwarded: false })).toBe('allowed');
    expect(metricsAccess(undefined, { remoteAddress: '::1', authorization: undefined, forwarded: false })).toBe('allowed');
    expect(metricsAccess(undefined, { remoteAddress: '127.0.0.1', authorization: undefined, forwarded: true })).toBe('forbidden');
    expect(metricsAccess(undefined, { remoteAddress: '10.0.0.1', authorization: 'Bearer anything', forwarded: false })).toBe('forbidden');
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });
});

describe('bounded operation names', () => {
  it('keeps the first names, then "other"; unnamed is "anonymous"; malformed is "other"', () => {
    const names = new BoundedNames(2);
    expect(names.label(undefined)).toBe('anonymous');
    expect(names.label('A')).toBe('A');
    expect(names.label('bad name"}')).toBe('other');
    expect(names.label('B')).toBe('B');
    expect(names.label('C')).toBe('other');
    expect(names.label('A')).toBe('A');
  });

  it('lets only trusted callers take a place: junk names from others count as "other" and leave room', () => {
    const names = new BoundedNames(2);
    for (let i = 0; i < 10; i++) expect(names.label(`Junk${i}`, false)).toBe('other');
    expect(names.label('RealDashboard')).toBe('RealDashboard');
    expect(names.label('RealDashboard', false)).toBe('RealDashboard'); // once known, anyone is counted under it
  });
});
