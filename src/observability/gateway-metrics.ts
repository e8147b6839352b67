/**
 * A gateway instance's Prometheus metrics, in a registry of its own: requests by route, status
 * class and upstream with latency histograms, upstream node health and the config revision.
 *
 * The proxy's hot path touches only plain numbers: one RouteSeries per (upstream, route), made on
 * the first request and reused, holds the request count, latency sum and bucket counts per
 * status class. prom-client's labelled children were measured at several label hashes and
 * objects per request; here prom-client only formats the series, when they are scraped.
 */
import { Gauge, Registry, type Metric, type MetricValueWithName } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Series of (upstream, route) pairs kept; more share one "other" series (configs are bounded, this is a backstop). */
const MAX_SERIES = 5000;
const OVERFLOW_KEY = 'other\u0000other';

/** The request counts and latencies of one (upstream, route) pair, by status class. */
export class RouteSeries {
  readonly counts = new Float64Array(CLASSES.length);
  readonly sums = new Float64Array(CLASSES.length);
  /** Per status class, LATENCY_BUCKETS.length counts (not cumulative: each observation counts once). */
  readonly buckets = new Float64Array(CLASSES.length * LATENCY_BUCKETS.length);

  constructor(
    readonly route: string,
    readonly upstream: string,
  ) {}
}

type Labels = 'route' | 'upstream' | 'status' | 'le';

/** A metric family prom-client renders from values we compute at scrape time. */
function family(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValueWithName<Labels>[]): void {
  const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }) };
  registry.registerMetric(metric as unknown as Metric);
}

export interface UpstreamHealth {
  upstream: string;
  healthy: number;
  total: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly series = new Map<string, RouteSeries>();
  private readonly nodes = new Gauge({ name: 'stagecraft_gateway_upstream_nodes', help: 'Upstream nodes by upstream and health (healthy: not ejected by passive health).', labelNames: ['upstream', 'state'] as const, registers: [this.registry] });
  private readonly revision = new Gauge({ name: 'stagecraft_gateway_config_revision', help: 'Revision of the configuration in use (-1 before the first).', registers: [this.registry] });

  /** The pre-bound series of one route of one upstream (gateway answers: route "none", upstream "gateway"). */
  seriesFor(route: string, upstream: string): RouteSeries {
    const key = `${upstream}\u0000${route}`;
    let found = this.series.get(key);
    if (found) return found;
    // The overflow series is made whatever the count, or asking for it would recurse forever.
    if (this.series.size >= MAX_SERIES && key !== OVERFLOW_KEY) return this.seriesFor('other', 'other');
    found = new RouteSeries(route, upstream);
    this.series.set(key, found);
    return found;
  }

  observe(series: RouteSeries, status: number, seconds: number): void {
    const i = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    series.counts[i]!++;
    series.sums[i]! += seconds;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    if (b < LATENCY_BUCKETS.length) series.buckets[i * LATENCY_BUCKETS.length + b]!++;
  }

  constructor() {
    family(this.registry, 'stagecraft_gateway_requests_total', 'Requests by route (the matched path pattern), upstream (service and version) and status class.', 'counter', () => {
      const values: MetricValueWithName<Labels>[] = [];
      for (const s of this.series.values()) {
        CLASSES.forEach((status, i) => {
          if (s.counts[i]) values.push({ labels: { route: s.route, upstream: s.upstream, status }, value: s.counts[i]! });
        });
      }
      return values;
    });
    const name = 'stagecraft_gateway_request_duration_seconds';
    family(this.registry, name, 'Request latency through the gateway, by route, upstream and status class.', 'histogram', () => {
      const values: MetricValueWithName<Labels>[] = [];
      for (const s of this.series.values()) {
        CLASSES.forEach((status, i) => {
          const count = s.counts[i]!;
          if (!count) return;
          // prom-client's own histogram shape: le first, then the series' labels.
          const labels = { route: s.route, upstream: s.upstream, status };
          let cumulative = 0;
          LATENCY_BUCKETS.forEach((le, b) => {
            cumulative += s.buckets[i * LATENCY_BUCKETS.length + b]!;
            values.push({ metricName: `${name}_bucket`, labels: { le } as never, sharedLabels: labels, value: cumulative } as MetricValueWithName<Labels>);
          });
          values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' } as never, sharedLabels: labels, value: count } as MetricValueWithName<Labels>);
          values.push({ metricName: `${name}_sum`, labels, value: s.sums[i]! });
          values.push({ metricName: `${name}_count`, labels, value: count });
        });
      }
      return values;
    });
  }

  async render(revision: number | null, health: readonly UpstreamHealth[]): Promise<string> {
    this.revision.set(revision ?? -1);
    this.nodes.reset();
    for (const u of health) {
      this.nodes.set({ upstream: u.upstream, state: 'healthy' }, u.healthy);
      this.nodes.set({ upstream: u.upstream, state: 'ejected' }, u.total - u.healthy);
    }
    return this.registry.metrics();
  }
}
