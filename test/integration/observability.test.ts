/**
 * Observability against real servers: /metrics moves with the work done and is protected by its
 * token, spans of a promotion on the source and of the import on the target share one trace
 * (exported over OTLP/HTTP to a receiver this test runs), the gateway sends `traceparent`
 * upstream and counts its requests, and each HTTP request leaves one access log line without
 * secrets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProxy, METRICS_PATH } from '../../src/dataplane/proxy.js';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/observability/gateway-metrics.js';
import { startTracing } from '../../src/observability/tracing-sdk.js';
import { promoteAndWait, registerStage } from '../support/promotion.js';
import { startTestServer, take, type TestServer } from '../support/server.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  stage?: string;
}

/** An OTLP/HTTP receiver: accepts the exporter's JSON and keeps the spans. */
async function startReceiver(): Promise<{ url: string; spans: ExportedSpan[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      expect(req.url).toBe('/v1/traces');
      expect(req.headers['content-type']).toContain('application/json');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const attr = (key: string) => rs.resource?.attributes?.find((a: any) => a.key === key)?.value?.stringValue;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, service: attr('service.name'), stage: attr('stagecraft.stage') });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Polls until `probe` answers something (15 s at most). */
async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

/** The value of one sample line, e.g. `name{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let dev: TestServer;
let qa: TestServer;

beforeAll(async () => {
  receiver = await startReceiver();
  [dev, qa] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, STAGECRAFT_METRICS_TOKEN: METRICS_TOKEN } }),
  ]);
  await registerStage(dev, 'qa', qa);
}, 120_000);

afterAll(async () => {
  await Promise.all([dev?.stop(), qa?.stop()]);
  await receiver?.close();
});

describe('metrics', () => {
  // First: the test after it fills the 200 places for names.
  it('counts operations over graphql-ws like those over HTTP, and the fan-out lag of live events once per view', async () => {
    const token = await dev.adminToken();
    const series = (operation: string, type: string, outcome: string) => `{operation="${operation}",type="${type}",outcome="${outcome}",transport="ws"}`;
    const client = dev.wsClient(token);
    const once = async (query: string) => (await take(client, query, {}, 1))[0] as { data?: any; errors?: any[] } | undefined;

    expect((await once('query WsWho { me { username } }'))?.data?.me.username).toBe('admin');
    expect((await once('query WsWho { me { username } }'))?.data?.me.username).toBe('admin');
    // A refused operation counts with its code, and its name takes no place among the labels
    // (the client sends no operationName: anonymous, as over HTTP).
    await expect(once('query WsRefused { noSuchField }')).rejects.toBeDefined();
    await expect(client.iterate({ query: 'query WsRefused { noSuchField }', operationName: 'WsRefused' }).next()).rejects.toBeDefined();
    // A mutation whose result carries an error counts with that error's code.
    const bad = await once('mutation WsBadUser { createUser(input: { username: "  ", password: "x", role: VIEWER }) { id } }');
    expect(bad?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // A replay (events stored before) is no fan-out delay: no lag observed.
    const lagCount = 'stagecraft_event_fanout_lag_seconds_count';
    expect((await dev.gql('mutation { createUser(input: { username: "lag-stored", password: "lag-stored-password", role: VIEWER }) { id } }', {}, token)).errors).toBeUndefined();
    const beforeReplay = sample((await scrape(`${dev.url}/metrics`)).text, lagCount) ?? 0;
    expect(await take(dev.wsClient(token), 'subscription { auditLog(afterSequence: 0) { type } }', {}, 1)).toHaveLength(1);
    expect(sample((await scrape(`${dev.url}/metrics`)).text, lagCount) ?? 0).toBe(beforeReplay);

    // Three subscribers of one view and one of another: one live event, two lag observations.
    const view = 'subscription WatchAudit { auditLog { sequence type } }';
    const live = [take(dev.wsClient(token), view, {}, 1), take(dev.wsClient(token), view, {}, 1), take(dev.wsClient(token), view, {}, 1), take(dev.wsClient(token), 'subscription WatchAuditActor { auditLog { actor } }', {}, 1)];
    // All four have started (each counts once it has joined its stream's feed).
    const startedCount = async () => {
      const now = (await scrape(`${dev.url}/metrics`)).text;
      return (sample(now, `stagecraft_graphql_operations_total${series('WatchAudit', 'subscription', 'ok')}`) ?? 0) + (sample(now, `stagecraft_graphql_operations_total${series('WatchAuditActor', 'subscription', 'ok')}`) ?? 0);
    };
    for (let i = 0; i < 100 && (await startedCount()) < 4; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300)); // and caught up with the table (no replay asked)
    const created = await dev.gql('mutation { createUser(input: { username: "lag-watcher", password: "lag-watcher-password", role: VIEWER }) { id } }', {}, token);
    expect(created.errors).toBeUndefined();
    for (const results of await Promise.all(live)) expect(results).toHaveLength(1);

    const text = (await scrape(`${dev.url}/metrics`)).text;
    expect(sample(text, `stagecraft_graphql_operations_total${series('WsWho', 'query', 'ok')}`)).toBe(2);
    expect(sample(text, `stagecraft_graphql_operation_duration_seconds_count${series('WsWho', 'query', 'ok')}`)).toBe(2);
    expect(sample(text, `stagecraft_graphql_operations_total${series('WsBadUser', 'mutation', 'BAD_USER_INPUT')}`)).toBe(1);
    expect(sample(text, `stagecraft_graphql_operations_total${series('anonymous', 'unknown', 'GRAPHQL_VALIDATION_FAILED')}`)).toBe(1);
    expect(text).not.toContain('operation="WsRefused"');
    expect(sample(text, `stagecraft_graphql_operations_total${series('other', 'unknown', 'GRAPHQL_VALIDATION_FAILED')}`)).toBe(1);
    expect(sample(text, `stagecraft_graphql_operations_total${series('WatchAudit', 'subscription', 'ok')}`)).toBe(3);
    expect(sample(text, `stagecraft_graphql_operations_total${series('WatchAuditActor', 'subscription', 'ok')}`)).toBe(1);
    expect(sample(text, lagCount)).toBe(beforeReplay + 2);
    const lagSum = sample(text, 'stagecraft_event_fanout_lag_seconds_sum')!;
    expect(lagSum).toBeGreaterThanOrEqual(0);
    expect(lagSum).toBeLessThan(10);
  });

  it('counts GraphQL operations by name and outcome, bounded, and reads pool, jobs and sockets', async () => {
    const token = await dev.adminToken();
    const before = (await scrape(`${dev.url}/metrics`)).text;
    const okSeries = 'stagecraft_graphql_operations_total{operation="WhoAmI",type="query",outcome="ok",transport="http"}';
    const start = sample(before, okSeries) ?? 0;
    for (let i = 0; i < 3; i++) expect((await dev.gql('query WhoAmI { me { username } }', {}, token)).errors).toBeUndefined();
    await dev.gql('{ me { username } }', {}, token);
    await dev.gql('query Broken { asset(id: "not-a-uuid") { id } }', {}, token);
    const socket = dev.wsClient(token);
    const stream = socket.iterate({ query: 'subscription { gatewayConfig(group: "default") { revision } }' });
    await stream.next().catch(() => undefined);

    const { status, text } = await scrape(`${dev.url}/metrics`);
    expect(status).toBe(200);
    expect(sample(text, okSeries)).toBe(start + 3);
    expect(sample(text, 'stagecraft_graphql_operations_total{operation="anonymous",type="query",outcome="ok",transport="http"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/stagecraft_graphql_operations_total\{operation="Broken",type="query",outcome="[A-Z_]+",transport="http"\} 1/);
    expect(text).not.toContain('operation="Broken",type="query",outcome="ok"');
    expect(sample(text, 'stagecraft_graphql_operation_duration_seconds_count{operation="WhoAmI",type="query",outcome="ok",transport="http"}')).toBe(start + 3);
    expect(sample(text, 'stagecraft_db_pool_connections{state="total"}')).toBeGreaterThan(0);
    expect(sample(text, 'stagecraft_websocket_sockets')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('stagecraft_subscriptions_active');
    expect(text).toContain('process_cpu_user_seconds_total');
    await stream.return?.();

    // Signed-out callers cannot take the places of real names.
    for (let i = 0; i < 5; i++) await dev.gql(`query Junk${i} { __typename }`);
    expect((await scrape(`${dev.url}/metrics`)).text).not.toMatch(/operation="Junk\d"/);

    // Names a client invents do not grow the metrics without end.
    for (let i = 0; i < 210; i++) await dev.gql(`query Op${i} { __typename }`, {}, token);
    const capped = (await scrape(`${dev.url}/metrics`)).text;
    const names = new Set([...capped.matchAll(/stagecraft_graphql_operations_total\{operation="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(201 + 1);
    expect(names.has('other')).toBe(true);
  });

  it('without a token, serves loopback clients only and not requests relayed by a proxy', async () => {
    expect((await scrape(`${dev.url}/metrics`)).status).toBe(200);
    const relayed = await scrape(`${dev.url}/metrics`, { 'x-forwarded-for': '203.0.113.9' });
    expect(relayed.status).toBe(403);
    expect(JSON.parse(relayed.text).error.code).toBe('FORBIDDEN');
  });

  it('with STAGECRAFT_METRICS_TOKEN, requires it as a bearer token', async () => {
    expect((await scrape(`${qa.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${qa.url}/metrics`, { authorization: 'Bearer wrong-token-wrong-token-wrong' })).status).toBe(401);
    expect((await scrape(`${qa.url}/metrics`, { authorization: `Bearer ${await qa.adminToken()}` })).status).toBe(401);
    const ok = await scrape(`${qa.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('stagecraft_graphql_operations_total');
  });
});

describe('tracing and promotion metrics', () => {
  it('one trace runs from the promotion on the source into the import on the target', async () => {
    const create = await dev.gql('mutation($i: CreateAssetInput!) { createAsset(input: $i) { id } }', { i: { type: 'POLICY', name: 'traced-policy', spec: { kind: 'CORS', config: { allowOrigins: ['https://traced.example'] } } } }, await dev.adminToken());
    expect(create.errors, JSON.stringify(create.errors)).toBeUndefined();
    const promotion = await promoteAndWait(dev, { name: 'traced', assetIds: [create.data!.createAsset.id], targetStages: ['qa'] });
    expect(promotion.status).toBe('SUCCESS');
    await Promise.all([dev.app.flushTraces(), qa.app.flushTraces()]);

    const imports = await waitFor(() => {
      const found = receiver.spans.filter((s) => s.name === 'archive import' && s.stage === 'qa');
      return found.length ? found : undefined;
    });
    const sent = receiver.spans.filter((s) => s.name === 'stage import' && s.stage === 'dev');
    expect(sent.length).toBeGreaterThanOrEqual(1);
    const trace = sent[0]!.traceId;
    expect(imports.map((s) => s.traceId)).toContain(trace);
    // The target's server span is the child of the source's client span.
    const targetServer = receiver.spans.find((s) => s.stage === 'qa' && s.name === 'POST /archive/import' && s.traceId === trace);
    expect(targetServer?.parentSpanId).toBe(sent[0]!.spanId);
    // And the trace starts at the promote mutation's request, through the job. The job's span ends
    // after the promotion reads SUCCESS, so it may reach the receiver a flush later.
    const traced = (name: string) => receiver.spans.some((s) => s.stage === 'dev' && s.traceId === trace && s.name === name);
    await waitFor(async () => {
      await dev.app.flushTraces();
      return traced('job promotion') || undefined;
    });
    expect(traced('POST /graphql')).toBe(true);

    const metrics = await waitFor(async () => {
      const text = (await scrape(`${dev.url}/metrics`)).text;
      return sample(text, 'stagecraft_job_runs_total{kind="promotion",outcome="ok"}') === 1 ? text : undefined;
    });
    expect(sample(metrics, 'stagecraft_remote_stage_requests_total{stage="qa",call="import",outcome="ok"}')).toBe(1);
    expect(sample(metrics, 'stagecraft_promotions{status="SUCCESS"}')).toBe(1);
    expect(sample(metrics, 'stagecraft_job_runs_total{kind="promotion",outcome="ok"}')).toBe(1);
    expect(metrics).toMatch(/stagecraft_jobs\{kind="promotion",state="DONE"\} 1/);
  });
});

describe('gateway', () => {
  it('sends traceparent upstream under its own span and counts requests by route, upstream and status class', async () => {
    let seen: string | undefined;
    const upstream = http.createServer((req, res) => {
      seen = req.headers.traceparent as string | undefined;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pong');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const tracing = startTracing(`${receiver.url}/v1/traces`, 'stagecraft-gateway');
    const proxy = new GatewayProxy(createLogger('silent'), { metrics: new GatewayMetrics(), metricsToken: METRICS_TOKEN, tracer: tracing.tracer });
    try {
      const port = await proxy.listen(0, '127.0.0.1');
      proxy.setConfig({
        group: 'g',
        revision: 7,
        services: [{ name: 'pets', version: '1.0.0', serviceVersionId: 'sv-1', routes: [{ id: 'r1', methods: [], paths: ['/ping'], host: null }], upstream: { nodes: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port, weight: 1 }], discovery: null, scheme: 'http', timeoutMs: 2000, retries: 0, passiveHealth: { failures: 0, ejectMs: 1000 } } as any }],
      });
      const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await fetch(`http://127.0.0.1:${port}/ping`, { headers: { traceparent: `00-${clientTrace}-00f067aa0ba902b7-01` } });
      expect(await res.text()).toBe('pong');
      expect(seen).toMatch(new RegExp(`^00-${clientTrace}-[0-9a-f]{16}-01$`));
      expect(seen).not.toContain('00f067aa0ba902b7'); // the gateway's span is the parent now
      await fetch(`http://127.0.0.1:${port}/nowhere`);

      expect((await fetch(`http://127.0.0.1:${port}${METRICS_PATH}`)).status).toBe(401);
      const text = await (await fetch(`http://127.0.0.1:${port}${METRICS_PATH}`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      expect(sample(text, 'stagecraft_gateway_requests_total{route="/ping",upstream="pets 1.0.0",status="2xx"}')).toBe(1);
      expect(sample(text, 'stagecraft_gateway_request_duration_seconds_count{route="/ping",upstream="pets 1.0.0",status="2xx"}')).toBe(1);
      expect(sample(text, 'stagecraft_gateway_requests_total{route="none",upstream="gateway",status="4xx"}')).toBe(1);
      expect(sample(text, 'stagecraft_gateway_config_revision')).toBe(7);
      expect(sample(text, 'stagecraft_gateway_upstream_nodes{upstream="pets 1.0.0",state="healthy"}')).toBe(1);

      await tracing.flush();
      const span = await waitFor(() => receiver.spans.find((s) => s.service === 'stagecraft-gateway' && s.traceId === clientTrace));
      expect(span.name).toBe('gateway GET /ping');
      expect(seen).toContain(span.spanId);
    } finally {
      await proxy.close();
      await tracing.shutdown();
      await new Promise((r) => upstream.close(r));
    }
  });
});

describe('access log', () => {
  it('writes one JSON line per request: method, path without query, status, duration, user, request id; no secrets', async () => {
    const token = await dev.adminToken();
    const requestId = 'req-observability-1';
    const res = await fetch(`${dev.graphqlUrl}?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
      body: JSON.stringify({ query: 'query Whoami { me { username } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const line = await waitFor(() => dev.logs.find((l) => l.access && l.requestId === requestId));
    expect(line).toMatchObject({ method: 'POST', path: '/graphql', status: 200, user: 'admin', requestId });
    expect(typeof line.durationMs).toBe('number');

    await dev.gql('mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u: 'admin', p: 'wrong-password-secret' });
    await fetch(`${dev.url}/healthz`);
    const health = await waitFor(() => dev.logs.find((l) => l.access && l.path === '/healthz'));
    expect(health).toMatchObject({ method: 'GET', status: 200, user: null });
    const everything = JSON.stringify(dev.logs);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('wrong-password-secret');
    expect(everything).not.toContain('admin-password-for-tests');
  });
});
