/** The gateway's per-route series stay bounded, and the bound itself never fails a request. */
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from '../../src/observability/gateway-metrics.js';

describe('GatewayMetrics series bound', () => {
  it('past 5,000 (route, upstream) pairs, new pairs share the "other" series instead of overflowing the stack', async () => {
    const metrics = new GatewayMetrics();
    for (let i = 0; i < 5000; i++) metrics.seriesFor(`/r${i}`, 'svc@1');
    const overflow = metrics.seriesFor('/one-too-many', 'svc@1');
    expect(metrics.seriesFor('/another', 'svc@2')).toBe(overflow);
    metrics.observe(overflow, 200, 0.01);
    const text = await metrics.render(1, []);
    expect(text).toContain('stagecraft_gateway_requests_total{route="other",upstream="other",status="2xx"} 1');
    expect(text).not.toContain('one-too-many');
  });
});
