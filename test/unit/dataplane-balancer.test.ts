import { describe, expect, it } from 'vitest';
import { Balancer, nodeKey } from '../../src/dataplane/balancer.js';
import type { UpstreamNode } from '../../src/dataplane/config.js';

const node = (port: number, weight = 1): UpstreamNode => ({ host: '10.0.0.1', port, weight });
const key = (port: number) => `10.0.0.1:${port}`;

function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const picks = (b: Balancer, n: number, exclude?: Set<string>) => Array.from({ length: n }, () => b.pick(exclude)?.port ?? null);

describe('smooth weighted round-robin', () => {
  it('rotates evenly over equal weights', () => {
    const b = new Balancer([node(1), node(2), node(3)], { failures: 0, ejectMs: 0 });
    expect(picks(b, 6)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('spreads a heavy node instead of bursting it (nginx 5:1:1 sequence)', () => {
    const b = new Balancer([node(1, 5), node(2, 1), node(3, 1)], { failures: 0, ejectMs: 0 });
    expect(picks(b, 7)).toEqual([1, 1, 2, 1, 3, 1, 1]);
  });

  it('honours weights exactly over whole cycles', () => {
    const b = new Balancer([node(1, 3), node(2, 1)], { failures: 0, ejectMs: 0 });
    const counts = new Map<number | null, number>();
    for (const p of picks(b, 400)) counts.set(p, (counts.get(p) ?? 0) + 1);
    expect(counts.get(1)).toBe(300);
    expect(counts.get(2)).toBe(100);
  });

  it('never picks weight 0 and merges duplicate nodes', () => {
    const b = new Balancer([node(1, 0), node(2, 1), node(2, 1), node(3, 2)], { failures: 0, ejectMs: 0 });
    expect(b.nodes.map((n) => [n.port, n.weight])).toEqual([
      [1, 0],
      [2, 2],
      [3, 2],
    ]);
    expect(picks(b, 8).filter((p) => p === 1)).toEqual([]);
    expect(new Balancer([node(1, 0)], { failures: 0, ejectMs: 0 }).pick()).toBeNull();
    expect(new Balancer([], { failures: 0, ejectMs: 0 }).pick()).toBeNull();
  });

  it('excludes nodes already tried, for retries', () => {
    const b = new Balancer([node(1), node(2), node(3)], { failures: 0, ejectMs: 0 });
    expect(b.pick(new Set([key(1)]))?.port).not.toBe(1);
    expect(b.pick(new Set([key(1), key(2)]))?.port).toBe(3);
    expect(b.pick(new Set([key(1), key(2), key(3)]))).toBeNull();
  });

  it('formats IPv6 node keys with brackets', () => {
    expect(nodeKey({ host: '::1', port: 80 })).toBe('[::1]:80');
    expect(nodeKey({ host: 'example.com', port: 80 })).toBe('example.com:80');
  });
});

describe('passive health', () => {
  it('ejects a node after N consecutive failures for ejectMs, then takes it back', () => {
    const clock = fakeClock();
    const b = new Balancer([node(1), node(2)], { failures: 3, ejectMs: 10_000 }, clock.now);
    expect(b.failure(key(1))).toBe(false);
    expect(b.failure(key(1))).toBe(false);
    expect(b.failure(key(1))).toBe(true);
    expect(b.isEjected(key(1))).toBe(true);
    expect(b.healthyCount()).toBe(1);
    expect(picks(b, 5)).toEqual([2, 2, 2, 2, 2]);

    clock.advance(9_999);
    expect(b.pick()?.port).toBe(2);
    clock.advance(1);
    expect(b.isEjected(key(1))).toBe(false);
    expect(new Set(picks(b, 4))).toEqual(new Set([1, 2]));
  });

  it('needs consecutive failures: a success resets the count', () => {
    const b = new Balancer([node(1)], { failures: 2, ejectMs: 1000 }, fakeClock().now);
    b.failure(key(1));
    b.success(key(1));
    expect(b.failure(key(1))).toBe(false);
    expect(b.failure(key(1))).toBe(true);
  });

  it('ejects a node on probation again at its first failure, and clears probation on success', () => {
    const clock = fakeClock();
    const b = new Balancer([node(1), node(2)], { failures: 3, ejectMs: 1000 }, clock.now);
    for (let i = 0; i < 3; i++) b.failure(key(1));
    clock.advance(1000);
    expect(b.failure(key(1))).toBe(true); // back, failed once: out again
    clock.advance(1000);
    b.success(key(1));
    expect(b.failure(key(1))).toBe(false); // healthy again: needs three in a row
    expect(b.failure(key(1))).toBe(false);
    expect(b.failure(key(1))).toBe(true);
  });

  it('does not count failures of a node already ejected (requests that were in flight)', () => {
    const clock = fakeClock();
    const b = new Balancer([node(1)], { failures: 1, ejectMs: 1000 }, clock.now);
    expect(b.failure(key(1))).toBe(true);
    clock.advance(500);
    expect(b.failure(key(1))).toBe(false);
    clock.advance(500);
    expect(b.isEjected(key(1))).toBe(false);
  });

  it('returns none when every node is ejected', () => {
    const b = new Balancer([node(1), node(2)], { failures: 1, ejectMs: 1000 }, fakeClock().now);
    b.failure(key(1));
    b.failure(key(2));
    expect(b.healthyCount()).toBe(0);
    expect(b.pick()).toBeNull();
  });

  it('is off when failures is 0', () => {
    const b = new Balancer([node(1)], { failures: 0, ejectMs: 1000 }, fakeClock().now);
    for (let i = 0; i < 10; i++) expect(b.failure(key(1))).toBe(false);
    expect(b.pick()?.port).toBe(1);
  });

  it('hands health and rotation over to the next snapshot for nodes that stay', () => {
    const clock = fakeClock();
    const old = new Balancer([node(1), node(2)], { failures: 1, ejectMs: 1000 }, clock.now);
    old.failure(key(1));
    const next = new Balancer([node(1), node(3)], { failures: 1, ejectMs: 1000 }, clock.now, old);
    expect(next.isEjected(key(1))).toBe(true);
    expect(next.pick()?.port).toBe(3);
    // A result reported to the old balancer (request in flight during the swap) counts for the new.
    clock.advance(1000);
    old.failure(key(1));
    expect(next.isEjected(key(1))).toBe(true);
  });
});
