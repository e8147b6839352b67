/**
 * A gateway instance's Prometheus metrics, in a registry of its own: requests by route, status
 * class and upstream with latency histograms, upstream node health and the config revision.
 *
 * The proxy's hot path touches only pre-bound children: one RouteSeries per (upstream, route),
 * made on the first request and reused, holding a counter and histogram child per status class.
 */
import { Counter, Gauge, Histogram, Registry, type Counter as CounterType, type Histogram as HistogramType } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Series of (upstream, route) pairs kept; more share one "other" series (configs are bounded, this is a backstop). */
const MAX_SERIES = 5000;
const OVERFLOW_KEY = 'other\u0000other';

export interface RouteSeries {
  readonly counters: CounterType.Internal[];
  readonly histograms: HistogramType.Internal<'route' | 'upstream' | 'status'>[];
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
  private readonly requests = new Counter({ name: 'stagecraft_gateway_requests_total', help: 'Requests by route (the matched path pattern), upstream (service and version) and status class.', labelNames: ['route', 'upstream', 'status'] as const, registers: [this.registry] });
  private readonly seconds = new Histogram({ name: 'stagecraft_gateway_request_duration_seconds', help: 'Request latency through the gateway, by route, upstream and status class.', labelNames: ['route', 'upstream', 'status'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly nodes = new Gauge({ name: 'stagecraft_gateway_upstream_nodes', help: 'Upstream nodes by upstream and health (healthy: not ejected by passive health).', labelNames: ['upstream', 'state'] as const, registers: [this.registry] });
  private readonly revision = new Gauge({ name: 'stagecraft_gateway_config_revision', help: 'Revision of the configuration in use (-1 before the first).', registers: [this.registry] });

  /** The pre-bound series of one route of one upstream (gateway answers: route "none", upstream "gateway"). */
  seriesFor(route: string, upstream: string): RouteSeries {
    const key = `${upstream}\u0000${route}`;
    let found = this.series.get(key);
    if (found) return found;
    // The overflow series is made whatever the count, or asking for it would recurse forever.
    if (this.series.size >= MAX_SERIES && key !== OVERFLOW_KEY) return this.seriesFor('other', 'other');
    found = {
      counters: CLASSES.map((status) => this.requests.labels({ route, upstream, status })),
      histograms: CLASSES.map((status) => this.seconds.labels({ route, upstream, status })),
    };
    this.series.set(key, found);
    return found;
  }

  observe(series: RouteSeries, status: number, seconds: number): void {
    const i = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    series.counters[i]!.inc();
    series.histograms[i]!.observe(seconds);
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
