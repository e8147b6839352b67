import { describe, expect, it } from 'vitest';
import { ConfigError, defaultLimits, loadConfig } from '../../src/config.js';
import { isDatabaseUnavailable, isUniqueViolation } from '../../src/db/errors.js';
import { groupBy } from '../../src/db/group-by.js';
import { isUuid, parseId, requireId } from '../../src/db/ids.js';
import { normaliseSpec } from '../../src/domain/asset-types.js';
import { jsonProblem, textProblem } from '../../src/domain/input-rules.js';
import { KeywordError, parseKeyword } from '../../src/domain/search.js';
import { STRICT_SEMVER } from '../../src/domain/versions.js';

describe('input rules', () => {
  it('refuse NUL and lone surrogates, accept paired ones', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('a\ud800b')).toMatch(/surrogate/);
    expect(textProblem('emoji 😀 ok')).toBeNull();
  });

  it('bound JSON depth and size without recursion, and check keys', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { n: deep };
    expect(jsonProblem(deep)).toBe('nests deeper than 32 levels');
    expect(jsonProblem({ a: { b: [1, 2, { c: 'ok' }] } })).toBeNull();
    expect(jsonProblem({ 'k\u0000': 1 })).toMatch(/a key must not contain NUL/);
    expect(jsonProblem(JSON.parse('{"a": {"__proto__": {"polluted": true}}}'))).toBe('a key must not be __proto__');
    expect(({} as any).polluted).toBeUndefined();
    expect(jsonProblem({ big: 'x'.repeat(300_000) })).toMatch(/larger than 262144 characters/);
  });

  it('spec rules: http(s) URLs only, valid ports, depth', () => {
    expect(() => normaliseSpec('APPLICATION', { redirectUris: ['javascript:alert(1)'] })).toThrow(/http\(s\) URL/);
    expect(() => normaliseSpec('APPLICATION', { redirectUris: ['http://x:99999/'] })).toThrow();
    expect(normaliseSpec('APPLICATION', { redirectUris: ['https://x.example:8443/cb'] }).redirectUris).toEqual(['https://x.example:8443/cb']);
    expect(() => normaliseSpec('CUSTOM_DESTINATION', { endpoint: 'file:///etc/passwd' })).toThrow();
    expect(normaliseSpec('SERVICE_REGISTRY', {}).url).toBe('');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) deep = { n: deep };
    expect(() => normaliseSpec('POLICY', { config: deep })).toThrow(/spec nests deeper than 32 levels/);
  });

  it('keyword bounds state the limit and never the keyword', () => {
    expect(() => parseKeyword('x'.repeat(300_000))).toThrow(new KeywordError('keyword must be at most 256 characters'));
    expect(() => parseKeyword('a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q')).toThrow(/at most 16 alternatives/);
    expect(() => parseKeyword('*a*b*c*d*e*f*g*h*')).toThrow(/at most 8 wildcards/);
    expect(parseKeyword('pet*|swagger').terms).toEqual(['pet*', 'swagger']);
  });

  it('strict semver', () => {
    for (const ok of ['0.1.0', '1.2.3-rc.1', '1.2.3+build.5']) expect(ok).toMatch(STRICT_SEMVER);
    for (const bad of ['0.1.0-x<script>', '1.2', '01.2.3', 'v1.2.3']) expect(bad).not.toMatch(STRICT_SEMVER);
  });
});

describe('db helpers', () => {
  it('ids: UUIDs only, canonical lower case, never echoing a malformed one', () => {
    expect(isUuid('6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe(true);
    expect(parseId('asset', '6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
    expect(() => parseId('asset', 'x'.repeat(1000))).toThrow('asset not found: not a valid id');
    expect(() => requireId('references', 'nope')).toThrow('references must be an id (a UUID)');
  });

  it('classify driver errors', () => {
    expect(isUniqueViolation({ driverError: { code: '23505' } })).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable({ code: '57P01' })).toBe(true);
    expect(isDatabaseUnavailable({ code: '23505' })).toBe(false);
  });

  it('groupBy keeps order within groups', () => {
    expect([...groupBy([1, 2, 3, 4], (n) => n % 2)]).toEqual([[1, [1, 3]], [0, [2, 4]]]);
  });
});

describe('limit settings', () => {
  it('read from the environment, with defaults', () => {
    expect(loadConfig([], {}).limits).toEqual(defaultLimits);
    expect(loadConfig([], { STAGECRAFT_MAX_LIST_ITEMS: '50', STAGECRAFT_MAX_CONCURRENT_IMPORTS: '4' }).limits).toMatchObject({ maxListItems: 50, concurrentImports: 4 });
    expect(() => loadConfig([], { STAGECRAFT_MAX_STRING_CHARS: '-1' })).toThrow(ConfigError);
  });
});
