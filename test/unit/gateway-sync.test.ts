import { describe, expect, it } from 'vitest';
import { decideSync, sameUpstream, type UpstreamShape, type VersionShape } from '../../src/domain/gateway-sync.js';

const nodes = (...ports: number[]): UpstreamShape => ({ nodes: ports.map((port) => ({ host: '10.0.0.1', port, weight: 1 })), discovery: null, timeoutMs: 10_000, retries: 2 });
const discovery = (serviceName: string, namespace: string | null = 'public'): UpstreamShape => ({ nodes: null, discovery: { registry: 'nacos', namespace, serviceName }, timeoutMs: 10_000, retries: 2 });
const routes = [{ id: 'a:0', methods: ['GET'], paths: ['/pet/{petId}'], host: null }];
const version = (id: string, upstream: UpstreamShape, extra: Partial<VersionShape> = {}): VersionShape => ({ id, assetId: 'asset-1', version: '1.0.0', routes, upstream, ...extra });
const source = version('src', nodes(1));

describe('sameUpstream', () => {
  it('ignores node order and host case, nothing else', () => {
    const a: UpstreamShape = { ...nodes(), nodes: [{ host: 'A.example', port: 1, weight: 1 }, { host: 'b.example', port: 2, weight: 3 }] };
    const b: UpstreamShape = { ...nodes(), nodes: [{ host: 'b.example', port: 2, weight: 3 }, { host: 'a.example', port: 1, weight: 1 }] };
    expect(sameUpstream(a, b)).toBe(true);
    expect(sameUpstream(a, { ...b, nodes: [{ host: 'b.example', port: 2, weight: 2 }, { host: 'a.example', port: 1, weight: 1 }] })).toBe(false);
    expect(sameUpstream(nodes(1), nodes(1, 1))).toBe(false);
    expect(sameUpstream(nodes(1), { ...nodes(1), timeoutMs: 5_000 })).toBe(false);
    expect(sameUpstream(nodes(1), { ...nodes(1), retries: 0 })).toBe(false);
  });

  it('never equates nodes with discovery, and compares every discovery field', () => {
    expect(sameUpstream(nodes(1), discovery('petstore'))).toBe(false);
    expect(sameUpstream(discovery('petstore'), discovery('petstore'))).toBe(true);
    expect(sameUpstream(discovery('petstore'), discovery('petstore', null))).toBe(false);
    expect(sameUpstream(discovery('petstore'), discovery('other'))).toBe(false);
    expect(sameUpstream({ ...nodes(), nodes: [] }, { ...nodes(), nodes: null })).toBe(true);
  });
});

describe('decideSync', () => {
  it('creates when the target has no such version', () => {
    expect(decideSync(source, [], null, nodes(1))).toEqual({ action: 'CREATED' });
  });

  it('is UNCHANGED when the target runs the copy with the same upstream', () => {
    const copy = version('c1', nodes(1));
    expect(decideSync(source, [copy], 'c1', nodes(1))).toEqual({ action: 'UNCHANGED', existing: copy });
  });

  it('changes the upstream (nodes ↔ discovery, other nodes) with a new copy', () => {
    const copy = version('c1', nodes(1));
    expect(decideSync(source, [copy], 'c1', discovery('petstore'))).toEqual({ action: 'UPSTREAM_CHANGED', previous: copy });
    expect(decideSync(source, [copy], 'c1', nodes(2))).toEqual({ action: 'UPSTREAM_CHANGED', previous: copy });
    const viaDiscovery = version('c2', discovery('petstore'));
    expect(decideSync(source, [copy, viaDiscovery], 'c2', nodes(3))).toEqual({ action: 'UPSTREAM_CHANGED', previous: viaDiscovery });
  });

  it('reactivates a copy with the same upstream that does not run, even when something else does', () => {
    const first = version('c1', nodes(1));
    const second = version('c2', nodes(2));
    expect(decideSync(source, [first, second], null, nodes(1))).toEqual({ action: 'REACTIVATED', existing: first });
    expect(decideSync(source, [first, second], 'another-version', nodes(2))).toEqual({ action: 'REACTIVATED', existing: second });
    expect(decideSync(source, [first, second], null, nodes(3))).toEqual({ action: 'UPSTREAM_CHANGED', previous: second });
    // back from another upstream to one the group had before
    expect(decideSync(source, [first, second], 'c2', nodes(1))).toEqual({ action: 'REACTIVATED', existing: first });
  });

  it('refuses when the target’s version of that number came from another definition', () => {
    const foreign = version('c1', nodes(1), { routes: [{ id: 'a:0', methods: ['POST'], paths: ['/pet'], host: null }] });
    expect(decideSync(source, [foreign], 'c1', nodes(1))).toMatchObject({ action: 'REFUSED', reason: expect.stringContaining('different API definition') });
    expect(decideSync(source, [version('c1', nodes(1), { assetId: 'asset-2' })], 'c1', nodes(1))).toMatchObject({ action: 'REFUSED' });
  });
});
