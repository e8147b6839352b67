import { describe, expect, it } from 'vitest';
import { chooseAlias } from '../../src/domain/aliases.js';
import { assetTypes, normaliseSpec, SpecError } from '../../src/domain/asset-types.js';
import { assetChecksum, canonicalJson } from '../../src/domain/checksum.js';
import { decodeSecrets, encodeSecrets, joinSecrets, splitSecrets } from '../../src/domain/secure-fields.js';
import { dependencyClosure, dependencyTable, referenceKind, type GraphNode } from '../../src/domain/dependencies.js';
import { collectStrings, matchesKeyword, parseKeyword } from '../../src/domain/search.js';

describe('specs', () => {
  it('accept {} for every type whose fields all have defaults, filling them in', () => {
    for (const type of assetTypes) expect(() => normaliseSpec(type, {})).not.toThrow();
    expect(normaliseSpec('ALIAS', {})).toEqual({ value: '', stage: null, secure: false, kind: 'SIMPLE' });
    expect(normaliseSpec('PLAN', {})).toMatchObject({ rateLimit: { requests: 1000, perSeconds: 60 }, price: 0, currency: 'USD' });
  });

  it('name the unknown or wrongly typed field', () => {
    const fail = (type: Parameters<typeof normaliseSpec>[0], spec: unknown) => {
      try {
        normaliseSpec(type, spec);
      } catch (err) {
        return err as SpecError;
      }
      throw new Error('expected a SpecError');
    };
    expect(fail('API', { bogus: 1 }).field).toBe('spec.bogus');
    expect(fail('API', { basePath: 3 }).field).toBe('spec.basePath');
    expect(fail('API', { routes: [{ method: 'GET', path: 'no-slash' }] }).field).toBe('spec.routes.0.path');
    expect(fail('ALIAS', { secure: 'yes' }).message).toMatch(/^spec\.secure: /);
    // the added types and alias kinds are as strict, naming the path
    expect(fail('KERBEROS', { realm: 'R', keytabs: 'x' }).field).toBe('spec.keytabs');
    expect(fail('THREAT_PROTECTION_RULE', { filters: [{ kind: 'REGEX', extra: 1 }] }).field).toBe('spec.filters.0.extra');
    expect(fail('ELASTICSEARCH_DESTINATION', { hosts: ['javascript:alert(1)'] }).field).toBe('spec.hosts.0');
    expect(fail('ALIAS', { kind: 'AWS_CONFIGURATION', attributes: { region: 'eu', secretKey: 'x' } }).field).toBe('spec.attributes.secretKey');
    expect(fail('ALIAS', { kind: 'HTTP_TRANSPORT_SECURITY', attributes: { authType: 'TELEPATHY' } }).field).toBe('spec.attributes.authType');
    expect(fail('ALIAS', { kind: 'WORMHOLE' }).field).toBe('spec.kind');
    expect(fail('JWT_OAUTH_OPENID', { signingSecret: 'a\u0000b' }).field).toBe('spec');
    expect(fail('PLAN', { rateLimit: { requests: -1 } }).field).toBe('spec.rateLimit.requests');
  });
});

describe('dependency table', () => {
  it('gives the kind of a reference from the two types, or null', () => {
    expect(referenceKind('API', 'POLICY')).toBe('REQUIRED');
    expect(referenceKind('API', 'ALIAS')).toBe('REQUIRED');
    expect(referenceKind('API', 'APPLICATION')).toBe('OPTIONAL');
    expect(referenceKind('PACKAGE', 'SUBSCRIPTION')).toBe('OPTIONAL');
    expect(referenceKind('SUBSCRIPTION', 'PACKAGE')).toBe('REQUIRED');
    expect(referenceKind('TEAM', 'GROUP')).toBe('REQUIRED');
    expect(referenceKind('POLICY', 'API')).toBeNull();
    expect(referenceKind('APPLICATION', 'POLICY')).toBeNull();
  });

  it('is the DESIGN table, row for row, with the rows of the types added since', () => {
    expect(Object.keys(dependencyTable).sort()).toEqual(
      [
        'API', 'APPLICATION', 'PACKAGE', 'PLAN', 'SUBSCRIPTION', 'TEAM', 'APPROVAL_CONFIGURATION', 'KEYSTORE_CONFIGURATION', 'EMAIL_DESTINATION', 'SERVICE_REGISTRY', 'CUSTOM_DESTINATION',
        'GLOBAL_POLICY', 'POLICY_TEMPLATE', 'EMAIL_TEMPLATE',
      ].sort(),
    );
    expect(dependencyTable.CUSTOM_DESTINATION).toEqual({ required: ['KEYSTORE', 'TRUSTSTORE', 'ALIAS'], optional: [] });
    // Application registrations: an optional dependency of APIs and applications.
    expect(dependencyTable.API).toEqual({ required: ['POLICY', 'ALIAS'], optional: ['APPLICATION', 'APPLICATION_REGISTRATION'] });
    expect(dependencyTable.APPLICATION).toEqual({ required: [], optional: ['API', 'APPLICATION_REGISTRATION'] });
    expect(dependencyTable.GLOBAL_POLICY).toEqual({ required: ['POLICY'], optional: [] });
    expect(dependencyTable.EMAIL_TEMPLATE).toEqual({ required: ['EMAIL_DESTINATION'], optional: [] });
  });
});

describe('dependencyClosure', () => {
  const graph = (edges: Record<string, [string, 'REQUIRED' | 'OPTIONAL'][]>) => {
    const nodes = new Map<string, GraphNode>();
    for (const [id, refs] of Object.entries(edges)) nodes.set(id, { id, references: refs.map(([to, kind]) => ({ to, kind })) });
    return (id: string) => nodes.get(id);
  };
  const g = graph({
    api: [['policy', 'REQUIRED'], ['alias', 'REQUIRED'], ['app', 'OPTIONAL']],
    policy: [],
    alias: [],
    app: [['api', 'OPTIONAL']],
    pkg: [['api', 'REQUIRED'], ['plan', 'REQUIRED'], ['sub', 'OPTIONAL']],
    plan: [['policy', 'REQUIRED']],
    sub: [['pkg', 'REQUIRED'], ['plan', 'REQUIRED']],
  });
  const before = (order: string[], a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));

  it('always takes required dependencies, transitively, dependencies first', () => {
    const order = dependencyClosure(['pkg'], g, 'NONE');
    expect(order.sort()).toEqual(['alias', 'api', 'pkg', 'plan', 'policy']);
    const o = dependencyClosure(['pkg'], g, 'NONE');
    before(o, 'policy', 'plan');
    before(o, 'api', 'pkg');
    before(o, 'plan', 'pkg');
  });

  it('takes optional ones by choice', () => {
    expect(dependencyClosure(['api'], g, 'NONE')).not.toContain('app');
    expect(dependencyClosure(['api'], g, 'ALL')).toContain('app');
    expect(dependencyClosure(['pkg'], g, 'SELECTED', new Set(['sub']))).toContain('sub');
    expect(dependencyClosure(['pkg'], g, 'SELECTED', new Set(['sub']))).not.toContain('app');
  });

  it('handles cycles (package ↔ subscription, api ↔ application) without repeating or losing anything', () => {
    const order = dependencyClosure(['pkg', 'app'], g, 'ALL');
    expect(new Set(order).size).toBe(order.length);
    expect(order.sort()).toEqual(['alias', 'api', 'app', 'pkg', 'plan', 'policy', 'sub']);
  });

  it('skips unknown ids and survives very deep chains', () => {
    expect(dependencyClosure(['nope'], g)).toEqual([]);
    const edges: Record<string, [string, 'REQUIRED'][]> = {};
    for (let i = 0; i < 20_000; i++) edges[`n${i}`] = i < 19_999 ? [[`n${i + 1}`, 'REQUIRED']] : [];
    const order = dependencyClosure(['n0'], graph(edges));
    expect(order[0]).toBe('n19999');
    expect(order.at(-1)).toBe('n0');
  });
});

describe('checksums', () => {
  const base = { type: 'API', name: 'A', description: '', team: null, version: '1.0.0', spec: { b: 1, a: { y: 2, x: [1, { q: 1, p: 2 }] } }, references: ['r2', 'r1'] };

  it('ignore key order and reference order', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    const reordered = { ...base, spec: { a: { x: [1, { p: 2, q: 1 }], y: 2 }, b: 1 }, references: ['r1', 'r2'] };
    expect(assetChecksum(reordered)).toBe(assetChecksum(base));
  });

  it('ignore defaults once specs are normalised', () => {
    const explicit = normaliseSpec('ALIAS', { value: 'x', stage: null, secure: false, kind: 'SIMPLE' });
    const implicit = normaliseSpec('ALIAS', { value: 'x' });
    expect(assetChecksum({ ...base, type: 'ALIAS', spec: explicit })).toBe(assetChecksum({ ...base, type: 'ALIAS', spec: implicit }));
  });

  it('change with any content', () => {
    const sum = assetChecksum(base);
    expect(assetChecksum({ ...base, description: 'x' })).not.toBe(sum);
    expect(assetChecksum({ ...base, references: ['r1'] })).not.toBe(sum);
    expect(assetChecksum({ ...base, spec: { ...base.spec, b: 2 } })).not.toBe(sum);
    expect(assetChecksum({ ...base, secretDigest: 'd' })).not.toBe(sum);
  });
});

describe('keyword syntax', () => {
  const names = ['Swagger Petstore', 'Test Harness', 'GraphQL Gateway', 'My graph API', 'Orders'];
  const find = (keyword: string) => names.filter((n) => matchesKeyword(parseKeyword(keyword), [n]));

  it('matches anywhere without wildcards, case-insensitively', () => {
    expect(find('pet')).toEqual(['Swagger Petstore']);
    expect(find('GRAPH')).toEqual(['GraphQL Gateway', 'My graph API']);
  });

  it('takes a|b as alternatives', () => {
    expect(find('pet|test')).toEqual(['Swagger Petstore', 'Test Harness']);
  });

  it('anchors a term with * at both ends of the attribute', () => {
    expect(find('graph*')).toEqual(['GraphQL Gateway']);
    expect(find('*store')).toEqual(['Swagger Petstore']);
    expect(find('t*s|o*s')).toEqual(['Test Harness', 'Orders']);
  });

  it('treats regex characters literally and an empty keyword as everything', () => {
    expect(find('(.*)')).toEqual([]);
    expect(parseKeyword('  ').regex).toBeNull();
    expect(parseKeyword('a.b').regex).toBe('(?n)(a\\.b)');
  });

  it('collects every string of a spec', () => {
    expect(collectStrings({ a: 'x', b: [1, 'y', { c: 'z' }], d: true })).toEqual(['x', 'y', 'z']);
  });
});

describe('alias choice', () => {
  const variants = [
    { name: 'backend', stage: null, v: 'default' },
    { name: 'backend', stage: 'prod', v: 'prod' },
    { name: 'other', stage: 'qa', v: 'other-qa' },
  ];
  it('prefers the variant bound to the stage, else the unbound one, else none', () => {
    expect(chooseAlias(variants, 'backend', 'prod')?.v).toBe('prod');
    expect(chooseAlias(variants, 'backend', 'qa')?.v).toBe('default');
    expect(chooseAlias(variants, 'other', 'prod')).toBeUndefined();
  });
});

describe('versions', () => {
  it('compare product versions numerically, pre-releases first', async () => {
    const { compareVersions } = await import('../../src/domain/versions.js');
    expect(compareVersions('1.2.10', '1.2.9')).toBe(1);
    expect(compareVersions('1.2.0', '1.2')).toBe(0);
    expect(compareVersions('0.9.0', '1.0.0')).toBe(-1);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1);
  });

  it('link API versions: gaps split the chain unless fixMissingVersions', async () => {
    const { linkVersions } = await import('../../src/domain/versions.js');
    const incoming = [1, 2, 4, 5].map((n) => ({ id: `v${n}`, systemVersion: n }));
    const split = linkVersions([], incoming, false);
    expect(Object.fromEntries(split)).toEqual({ v1: 'main', v2: 'main', v4: 'v4', v5: 'v4' });
    const fixed = linkVersions([], incoming, true);
    expect([...fixed.values()]).toEqual(['main', 'main', 'main', 'main']);
    // versions already on the target close the gap
    expect(Object.fromEntries(linkVersions([3], [{ id: 'v4', systemVersion: 4 }], false))).toEqual({ v4: 'main' });
    // a set that starts at 2 on the target is still one chain
    expect(Object.fromEntries(linkVersions([], [2, 3].map((n) => ({ id: `v${n}`, systemVersion: n })), false))).toEqual({ v2: 'main', v3: 'main' });
  });
});

describe('secure fields', () => {
  it('leave the spec blanked, keep stored values for fields left empty, and come back whole', () => {
    const spec = normaliseSpec('KERBEROS', { realm: 'EXAMPLE.COM', password: 'p4ss', keytab: '' });
    const { spec: stored, secrets } = splitSecrets('KERBEROS', spec, { keytab: 'old-keytab', password: 'old' });
    expect(stored).toMatchObject({ realm: 'EXAMPLE.COM', password: '', keytab: '' });
    expect(secrets).toEqual({ password: 'p4ss', keytab: 'old-keytab' });
    expect(decodeSecrets(encodeSecrets(secrets!))).toEqual(secrets);
    expect(joinSecrets(stored, secrets!)).toEqual({ ...spec, keytab: 'old-keytab' });
  });

  it('seal a secure alias value as itself (stored values stay valid) and attributes of any kind', () => {
    const plain = splitSecrets('ALIAS', normaliseSpec('ALIAS', { secure: true, value: 'v' }), null);
    expect(encodeSecrets(plain.secrets!)).toBe('v');
    expect(decodeSecrets('v')).toEqual({ value: 'v' });
    const aws = splitSecrets('ALIAS', normaliseSpec('ALIAS', { kind: 'AWS_CONFIGURATION', attributes: { region: 'eu-west-1', secretAccessKey: 'AKIA-secret' } }), null);
    expect(aws.spec.attributes).toMatchObject({ region: 'eu-west-1', secretAccessKey: '' });
    expect(aws.secrets).toEqual({ 'attributes.secretAccessKey': 'AKIA-secret' });
    // a secure alias whose value looks like the structured form is still its own value
    expect(decodeSecrets(encodeSecrets({ value: '{"a":1}' }))).toEqual({ value: '{"a":1}' });
  });

  it('every type has a strict spec that takes {} (all fields defaulted)', () => {
    for (const type of assetTypes) expect(() => normaliseSpec(type, {}), type).not.toThrow();
  });
});
