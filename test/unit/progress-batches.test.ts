import { describe, expect, it } from 'vitest';
import { assetProgress, MAX_ASSET_EVENTS } from '../../src/domain/progress-batches.js';

const outcomes = (n: number, status = 'CREATED') => Array.from({ length: n }, (_, i) => ({ type: 'POLICY', name: `p${i}`, status }));

describe('batched ASSET progress', () => {
  it('keeps one event per asset, worded as before, for small runs', () => {
    expect(assetProgress(outcomes(3))).toEqual([
      { completed: 1, total: 3, message: 'POLICY p0: CREATED' },
      { completed: 2, total: 3, message: 'POLICY p1: CREATED' },
      { completed: 3, total: 3, message: 'POLICY p2: CREATED' },
    ]);
    expect(assetProgress(outcomes(MAX_ASSET_EVENTS))).toHaveLength(MAX_ASSET_EVENTS);
  });

  it('gives at most MAX_ASSET_EVENTS events, rising, ending with completed == total', () => {
    for (const n of [MAX_ASSET_EVENTS + 1, 300, 999, 10_000, 100_001]) {
      const events = assetProgress(outcomes(n));
      expect(events.length).toBeLessThanOrEqual(MAX_ASSET_EVENTS);
      expect(events.at(-1)).toMatchObject({ completed: n, total: n });
      for (let i = 1; i < events.length; i++) expect(events[i].completed).toBeGreaterThan(events[i - 1].completed);
    }
  });

  it('counts each status in a batch and names its first and last asset', () => {
    const mixed = [...outcomes(150), ...outcomes(50, 'FAILURE')];
    const events = assetProgress(mixed, 2);
    expect(events.map((e) => e.message)).toEqual([
      '100 assets: 100 CREATED (POLICY p0 … POLICY p99)',
      '100 assets: 50 CREATED, 50 FAILURE (POLICY p100 … POLICY p49)',
    ]);
  });

  it('gives nothing for nothing', () => {
    expect(assetProgress([])).toEqual([]);
  });
});
