/**
 * The gateway data plane: one HTTP server that routes each request by the current config
 * snapshot and proxies it to a node of the matched service's upstream.
 *
 * Config updates (`setConfig`, `setNodes`) build a new Snapshot and swap it in with one
 * assignment; a request keeps the snapshot it arrived with until it finishes (see snapshot.ts).
 * Retries (see body.ts and attempt.ts for what is safe):
 *  - connect failures (refused, unreachable, connect timeout): always, on another node;
 *  - a connection reset before any response: only for idempotent methods (RFC 9110 §9.2.2),
 *    since the node may have acted on the request; POST and PATCH get 502 instead;
 *  - no response headers in time: never (504), the node may still be working on it;
 *  - a response, whatever its status, is the answer (and counts as a success for health).
 * Each attempt goes to a node this request has not tried, at most `retries` more times.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { attempt, type AttemptOutcome, type FailureKind } from './attempt.js';
import type { Clock } from './balancer.js';
import { readRequestBody, type RequestBody } from './body.js';
import type { GatewayConfig, UpstreamNode } from './config.js';
import { sendError, sendJson } from './errors.js';
import { readRequestHead } from './headers.js';
import { PoolRegistry } from './pools.js';
import { Snapshot, type UpstreamRuntime } from './snapshot.js';
import { context, ROOT_CONTEXT, trace, type Tracer } from '@opentelemetry/api';
import type { GatewayMetrics, RouteSeries } from '../observability/gateway-metrics.js';
import { serveMetrics } from '../observability/metrics-endpoint.js';
import { endSpan, extractTraceContext, SpanKind, traceHeaders } from '../observability/tracing.js';

export const HEALTH_PATH = '/__gateway/health';
/** Prometheus metrics of this instance (README "Observability"). */
export const METRICS_PATH = '/__gateway/metrics';

/** Used when a config carries no usable timeoutMs. */
const DEFAULT_TIMEOUT_MS = 60_000;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** `.` or `..` as a path segment, also percent-encoded: upstreams would resolve them past our routing. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|$)/i;

export interface GatewayProxyOptions {
  /** Clock for passive health (tests); default Date.now. */
  clock?: Clock;
  /** How long close() waits for requests in flight before cutting connections; default 5000. */
  shutdownGraceMs?: number;
  /** Request metrics, served at METRICS_PATH; none when absent. */
  metrics?: GatewayMetrics;
  /** Bearer token METRICS_PATH requires; unset: loopback clients only. */
  metricsToken?: string;
  /** Spans per proxied request, `traceparent` sent upstream; none when absent. */
  tracer?: Tracer | null;
}

type Failed = Extract<AttemptOutcome, { kind: 'failed' }>;

export class GatewayProxy {
  private readonly server: http.Server;
  private readonly pools: PoolRegistry;
  private readonly clock: Clock;
  private readonly shutdownGraceMs: number;
  private current: Snapshot | null = null;
  /** Nodes found by service discovery, by serviceVersionId; kept across config changes. */
  private readonly discovered = new Map<string, readonly UpstreamNode[]>();
  private closing: Promise<void> | null = null;
  /** Set once the control plane said the group is gone: every request gets a 503 from then on. */
  private deletedGroup: string | null = null;
  private readonly metrics: GatewayMetrics | null;
  private readonly metricsToken: string | undefined;
  private readonly tracer: Tracer | null;
  /** Gateway answers before any route matched (not configured, no route, bad path …). */
  private readonly unrouted: RouteSeries | null;

  constructor(
    private readonly log: Logger,
    options: GatewayProxyOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.shutdownGraceMs = options.shutdownGraceMs ?? 5_000;
    this.pools = new PoolRegistry(log);
    this.metrics = options.metrics ?? null;
    this.metricsToken = options.metricsToken;
    this.tracer = options.tracer ?? null;
    this.unrouted = this.metrics?.seriesFor('none', 'gateway') ?? null;
    this.server = http.createServer((req, res) => {
      try {
        this.handle(req, res);
      } catch (err) {
        this.failed(err, req, res);
      }
    });
  }

  /** Revision of the config in use; null before the first setConfig. */
  get revision(): number | null {
    return this.current?.revision ?? null;
  }

  /**
   * Applies a config snapshot. New requests use it at once; requests in flight finish with the
   * one they started with. Nodes that stay keep their connections and health.
   */
  setConfig(config: GatewayConfig): void {
    if (this.closing || this.deletedGroup) return;
    // Forget discovered nodes of service versions the new configuration no longer runs.
    const running = new Set(config.services.map((s) => s.serviceVersionId));
    for (const id of this.discovered.keys()) if (!running.has(id)) this.discovered.delete(id);
    this.install(config);
    this.log.info({ group: config.group, revision: config.revision, services: config.services.length }, 'gateway config applied');
  }

  /**
   * The group was deleted on the control plane: stop routing (its services are nobody's now) and
   * answer every request with 503 GROUP_DELETED, so clients and load balancers see why.
   */
  groupDeleted(group: string): void {
    this.deletedGroup = group;
    const previous = this.current;
    this.current = null;
    previous?.retire();
  }

  /**
   * The nodes service discovery found for a service version whose upstream uses discovery.
   * Takes effect like a config change (same revision). Ignored for upstreams with static nodes.
   */
  setNodes(serviceVersionId: string, nodes: UpstreamNode[]): void {
    if (this.closing || this.deletedGroup) return;
    this.discovered.set(serviceVersionId, [...nodes]);
    const config = this.current?.config;
    const service = config?.services.find((s) => s.serviceVersionId === serviceVersionId);
    if (config && service?.upstream.discovery) this.install(config);
  }

  /** Starts listening; resolves with the bound port (port 0 picks a free one). */
  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (up to the grace period), closes pools. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      const force = setTimeout(() => this.server.closeAllConnections(), this.shutdownGraceMs);
      await closed;
      clearTimeout(force);
      this.current?.retire();
      await this.pools.closeAll(this.shutdownGraceMs);
    })();
    return this.closing;
  }

  /** Node keys (`host:port`) with an open connection pool, for tests and diagnostics. */
  poolKeys(): string[] {
    return this.pools.keys();
  }

  private install(config: GatewayConfig): void {
    const previous = this.current;
    // The new snapshot acquires its pools before the old one can release them.
    const next = new Snapshot(config, this.discovered, this.pools, this.clock, previous);
    this.current = next;
    previous?.retire();
    if (next.problems.length && previous?.config !== config) {
      for (const problem of next.problems) this.log.warn({ revision: config.revision }, `gateway config: ${problem}`);
    }
  }

  /** A bug surfaced while handling a request: logged, and a 500 if nothing was sent yet. */
  private failed(err: unknown, req: IncomingMessage, res: ServerResponse): void {
    this.log.error({ err, method: req.method, path: pathOf(req.url) }, 'gateway request failed unexpectedly');
    if (!res.writableEnded) sendError(res, 'INTERNAL_ERROR', 'The gateway failed to handle the request.');
  }

  /*
   * The request path is plain callbacks, no promises or async functions: every request pays for
   * what runs here, and a promise per step (plus the microtask each await costs) was a
   * measurable share of the gateway's own CPU per request.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '';
    const path = pathOf(target);
    if (path === HEALTH_PATH) {
      const status = this.deletedGroup ? 'group-deleted' : this.current ? 'ok' : 'starting';
      return sendJson(res, this.current ? 200 : 503, { status, revision: this.revision });
    }
    if (path === METRICS_PATH && this.metrics) {
      const metrics = this.metrics;
      serveMetrics(req, res, this.metricsToken, () => metrics.render(this.revision, this.upstreamHealth()), metrics.contentType).catch((err: unknown) => this.failed(err, req, res));
      return;
    }
    const observation = this.metrics || this.tracer ? this.observe(req, path) : null;
    // A deleted group has no snapshot either (groupDeleted drops it).
    const snapshot = this.deletedGroup ? null : this.current;
    snapshot?.enter();
    // One listener for everything that ends with the exchange.
    if (snapshot || observation) {
      res.on('close', () => {
        snapshot?.leave();
        if (observation) this.record(observation, res);
      });
    }
    if (this.deletedGroup) {
      return sendError(res, 'GROUP_DELETED', `The gateway group ${this.deletedGroup} was deleted on the control plane; this instance serves nothing.`);
    }
    if (!snapshot) return sendError(res, 'NOT_CONFIGURED', 'The gateway has not received its configuration yet.');
    this.route(req, res, snapshot, target, path, observation);
  }

  /**
   * Starts measuring (and tracing) a request: the series is chosen once the route is known, the
   * outcome recorded when the response closes. Only observed requests pay for this.
   */
  private observe(req: IncomingMessage, path: string): Observation {
    const observation: Observation = { started: performance.now(), series: this.unrouted, span: null };
    if (this.tracer) {
      const parent = extractTraceContext(req.headers, ROOT_CONTEXT);
      observation.span = this.tracer.startSpan(`gateway ${req.method ?? 'GET'}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path } }, parent);
    }
    return observation;
  }

  private record(observation: Observation, res: ServerResponse): void {
    const status = res.writableFinished ? res.statusCode : 499;
    if (observation.series) this.metrics!.observe(observation.series, status, (performance.now() - observation.started) / 1000);
    if (observation.span) endSpan(observation.span, status >= 500 ? `HTTP ${status}` : 'ok', { 'http.response.status_code': status });
  }

  private upstreamHealth(): { upstream: string; healthy: number; total: number }[] {
    const snapshot = this.current;
    if (!snapshot) return [];
    return [...snapshot.upstreams.values()].map((u) => ({ upstream: u.label, healthy: u.balancer.healthyCount(), total: u.balancer.nodes.length }));
  }

  private route(req: IncomingMessage, res: ServerResponse, snapshot: Snapshot, target: string, path: string, observation: Observation | null): void {
    if (!path.startsWith('/') || DOT_SEGMENT.test(path)) {
      return sendError(res, 'BAD_REQUEST', 'The request path must be absolute and free of . and .. segments.');
    }
    const method = req.method ?? 'GET';
    const head = readRequestHead(req, 'http');
    const match = snapshot.routes.match(method, path, head.host);
    if (!match) return sendError(res, 'ROUTE_NOT_FOUND', `No route matches ${method} ${path}.`);

    const runtime = snapshot.upstreams.get(match.service.serviceVersionId)!;
    let headers = head.upstreamHeaders;
    if (observation) {
      if (this.metrics) observation.series = this.metrics.seriesFor(match.pattern, runtime.label);
      if (observation.span) {
        observation.span.updateName(`gateway ${method} ${match.pattern}`);
        observation.span.setAttributes({ 'http.route': match.pattern, 'stagecraft.upstream': runtime.label });
        headers = withTraceHeaders(headers, traceHeaders(trace.setSpan(context.active(), observation.span)));
      }
    }
    if (!runtime.balancer.anyHealthy()) {
      return sendError(res, 'NO_HEALTHY_UPSTREAM', `Service ${runtime.label} has no healthy node.`);
    }

    const read = readRequestBody(req, head);
    if (!(read instanceof Promise)) return this.forward(req, res, snapshot, runtime, target, headers, read);
    read
      .then(
      (body) => {
        res.once('finish', () => {
          if (!req.complete) body.discard();
        });
        this.forward(req, res, snapshot, runtime, target, headers, body);
      },
        () => void res.destroy(), // the client broke off its upload
      )
      .catch((err: unknown) => this.failed(err, req, res));
  }

  /**
   * Tries nodes until one responds, then leaves the response to the attempt; answers with the
   * last failure (or NO_HEALTHY_UPSTREAM) when none did.
   */
  private forward(req: IncomingMessage, res: ServerResponse, snapshot: Snapshot, runtime: UpstreamRuntime, target: string, headers: string[], body: RequestBody): void {
    const { upstream, balancer } = runtime;
    const method = req.method ?? 'GET';
    const timeoutMs = Number.isFinite(upstream.timeoutMs) && upstream.timeoutMs > 0 ? upstream.timeoutMs : DEFAULT_TIMEOUT_MS;
    const attempts = 1 + Math.max(0, Math.floor(upstream.retries || 0));
    // Log entries are objects: build them only when debug logging is on.
    const debug = this.log.isLevelEnabled('debug');
    let n = 0;
    let node = '';
    // Nodes already tried; made on the first retry, since most requests are answered by the first node.
    let tried: Set<string> | null = null;
    let last: Failed | null = null;

    const fail = () => {
      if (!last) return sendError(res, 'NO_HEALTHY_UPSTREAM', `Service ${runtime.label} has no healthy node.`);
      const [code, message] = errorFor(last.failure, runtime.label);
      sendError(res, code, message);
    };

    const next = (): void => {
      if (n > 0) {
        if (!body.replayable()) return fail();
        (tried ??= new Set()).add(node);
      }
      const picked = balancer.pick(tried ?? NONE_TRIED);
      if (!picked) return fail();
      node = picked.key;
      n++;
      attempt(snapshot.pool(node), { method, path: target, headers, body: body.forAttempt(), timeoutMs }, res, settled);
    };

    const settled = (outcome: AttemptOutcome): void => {
      try {
        if (outcome.kind === 'response') {
          balancer.success(node);
          if (debug) this.log.debug({ method, path: pathOf(target), serviceName: runtime.service.name, node, status: outcome.status, attempts: n }, 'proxied');
          return;
        }
        if (outcome.kind === 'client-gone') return;

        last = outcome;
        const countsAgainstNode = outcome.failure !== 'invalid' && outcome.failure !== 'bad-response';
        if (countsAgainstNode && balancer.failure(node)) {
          this.log.warn({ serviceName: runtime.service.name, serviceVersionId: runtime.service.serviceVersionId, node, ejectMs: upstream.passiveHealth.ejectMs, err: outcome.error }, 'upstream node ejected after consecutive failures');
        }
        if (debug) this.log.debug({ method, path: pathOf(target), node, failure: outcome.failure, err: outcome.error }, 'upstream attempt failed');
        if (n >= attempts || !retryable(outcome.failure, method)) return fail();
        next();
      } catch (err) {
        this.failed(err, req, res);
      }
    };

    next();
  }
}

const NONE_TRIED: ReadonlySet<string> = new Set();

/** What an observed request records when its response closes. */
interface Observation {
  /** performance.now() when the request arrived. */
  started: number;
  series: RouteSeries | null;
  span: import('@opentelemetry/api').Span | null;
}

const TRACE_HEADERS = new Set(['traceparent', 'tracestate']);

/** The upstream headers with the client's trace headers replaced by ours (the gateway span is the parent now). */
function withTraceHeaders(headers: string[], ours: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!TRACE_HEADERS.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [name, value] of Object.entries(ours)) out.push(name, value);
  return out;
}


function retryable(failure: FailureKind, method: string): boolean {
  if (failure === 'connect' || failure === 'connect-timeout') return true;
  if (failure === 'reset') return IDEMPOTENT.has(method);
  return false;
}

function errorFor(failure: FailureKind, label: string): [Parameters<typeof sendError>[1], string] {
  switch (failure) {
    case 'timeout':
    case 'connect-timeout':
      return ['UPSTREAM_TIMEOUT', `Service ${label} did not respond in time.`];
    case 'invalid':
      return ['BAD_REQUEST', 'The request cannot be forwarded.'];
    default:
      return ['UPSTREAM_UNAVAILABLE', `Service ${label} could not be reached.`];
  }
}

function pathOf(target: string | undefined): string {
  const t = target ?? '';
  const q = t.indexOf('?');
  return q === -1 ? t : t.slice(0, q);
}
