/**
 * Service discovery against real registries on loopback, then end to end through a gateway:
 * - DNS: a real DNS server on UDP started by the test (test/support/dns-server.ts: SRV records,
 *   their targets' A records, `name:port` A lookups);
 * - NACOS: startNacosRegistry (the demo's open-API stand-in) and a recording Nacos-like server;
 * - KUBERNETES: a local API server answering EndpointSliceLists (`discovery.k8s.io/v1`) only with
 *   the bearer token.
 * End to end: a control plane, a registry in a gateway group, the Petstore published with
 * `upstream.discovery`, an in-process gateway (startGateway), `GET /pet/1` through it, and the
 * gateway following the registry when its answer changes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/dataplane/agent.js';
import type { Discovery, ServiceRegistryConfig, UpstreamNode } from '../../src/dataplane/config.js';
import { resolveNodes } from '../../src/dataplane/discovery.js';
import { dog, startNacosRegistry, startPetstore, type RunningUpstream } from '../../src/demo/petstore.js';
import { createLogger } from '../../src/logger.js';
import { startDnsServer, type RunningDnsServer } from '../support/dns-server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { get, until } from '../support/polling.js';

// ---------------------------------------------------------------- cleanup

const cleanups: (() => Promise<unknown>)[] = [];
/** Registers a cleanup step; afterAll runs them newest first (gateways before their upstreams). */
function onCleanup<T>(value: T, step: (value: T) => Promise<unknown>): T {
  cleanups.push(() => step(value));
  return value;
}

afterAll(async () => {
  const errors: unknown[] = [];
  for (const step of cleanups.reverse()) await step().catch((err: unknown) => errors.push(err));
  cleanups.length = 0;
  if (errors.length) throw new AggregateError(errors, 'cleanup failed');
});

// ---------------------------------------------------------------- Kubernetes API server

interface EndpointSpec {
  ip: string;
  /** Omitted = nil, which EndpointConditions documents as ready. */
  ready?: boolean;
}

/** An EndpointSlice as the EndpointSlice controller writes it (discovery.k8s.io/v1). */
function endpointSlice(namespace: string, service: string, name: string, port: number, endpoints: EndpointSpec[]) {
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name,
      namespace,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.ready, terminating: e.ready === false ? true : false },
      nodeName: `node-${i}`,
      targetRef: { kind: 'Pod', namespace, name: `${service}-${i}` },
    })),
    ports: [{ name: 'http', protocol: 'TCP', port }],
  };
}

type Slice = ReturnType<typeof endpointSlice>;

interface FakeKubernetes {
  url: string;
  token: string;
  /** EndpointSlices by namespace; replace to change the answer. */
  slices: Record<string, Slice[]>;
  requests: { namespace: string; labelSelector: string | null; authorization: string | null; at: number }[];
  /** Answer this much later (a registry under load). */
  delayMs: number;
  /** Most lookups being answered at the same time so far. */
  maxInFlight: number;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

/**
 * `GET /apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector=kubernetes.io/service-name={svc}`
 * with `Authorization: Bearer <token>` (401 Status otherwise), as the API server answers it.
 */
async function startFakeKubernetes(token: string): Promise<FakeKubernetes> {
  const kube: FakeKubernetes = { url: '', token, slices: {}, requests: [], delayMs: 0, maxInFlight: 0, close: async () => undefined };
  let resourceVersion = 1000;
  let inFlight = 0;
  const server = http.createServer(async (req, res) => {
    inFlight++;
    kube.maxInFlight = Math.max(kube.maxInFlight, inFlight);
    if (kube.delayMs) await sleep(kube.delayMs);
    const send = (code: number, body: unknown) => {
      inFlight--;
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://kubernetes');
    const match = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const namespace = decodeURIComponent(match[1]!);
    const labelSelector = url.searchParams.get('labelSelector');
    kube.requests.push({ namespace, labelSelector, authorization: req.headers.authorization ?? null, at: Date.now() });
    if (req.headers.authorization !== `Bearer ${kube.token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const selected = /^kubernetes\.io\/service-name=([a-z0-9.-]+)$/.exec(labelSelector ?? '');
    if (!selected) return send(400, status(400, 'BadRequest', `unable to parse requirement: ${labelSelector}`));
    const items = (kube.slices[namespace] ?? []).filter((s) => s.metadata.labels['kubernetes.io/service-name'] === selected[1]);
    send(200, { kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(resourceVersion++) }, items });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kube.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kube.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return kube;
}

// ---------------------------------------------------------------- helpers

function registry(type: ServiceRegistryConfig['type'], address: string, token: string | null = null): ServiceRegistryConfig {
  return { name: type.toLowerCase(), type, address, token, refreshMs: 500 };
}

const discovery = (reg: ServiceRegistryConfig, serviceName: string, namespace: string | null = null): Discovery => ({ registry: reg, serviceName, namespace });

const byAddress = (nodes: UpstreamNode[]) => [...nodes].sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`));



/**
 * Sends GETs until the Petstore on `port` answers, checking every answer on the way is a 200
 * from one of `allowed`; returns how long the move took.
 */
async function trafficMovesTo(gatewayPort: number, port: number, allowed: number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await get(gatewayPort);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(allowed).toContain(r.upstream);
    if (r.upstream === port) break;
    if (Date.now() - started > timeoutMs) throw new Error(`traffic did not move to 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
  const took = Date.now() - started;
  for (let i = 0; i < 10; i++) expect((await get(gatewayPort)).upstream).toBe(port);
  return took;
}

/** Gateway log lines (pino JSON), for checks on what it reported. */
function logSink() {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('info', sink) };
}

// ---------------------------------------------------------------- control plane

let cp: TestServer;
let admin: string;
let petstoreId: string;

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await cp.gql(query, variables, admin);
  if (res.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const REFRESH_MS = 500;

/**
 * A gateway group with a registry and the Petstore published through it, and a gateway
 * instance of the group running in this process.
 */
async function gatewayWithDiscovery(opts: {
  group: string;
  registry: { name: string; type: string; address: string; token?: string };
  discovery: { namespace?: string; serviceName: string };
}): Promise<{ gateway: RunningGateway; logs: Record<string, any>[]; revision: number }> {
  if (opts.group !== 'default') await gql('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: opts.group });
  await gql('mutation($i: CreateServiceRegistryInput!) { createServiceRegistry(input: $i) { name } }', {
    i: { gatewayGroup: opts.group, refreshMs: REFRESH_MS, ...opts.registry },
  });
  const published = await gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { id upstream } }', {
    i: { assetId: petstoreId, gatewayGroup: opts.group, upstream: { discovery: { registry: opts.registry.name, ...opts.discovery } } },
  });
  expect(published.publishService.upstream).toMatchObject({ nodes: null, discovery: { registry: opts.registry.name, serviceName: opts.discovery.serviceName } });
  const { revision } = (await gql('query($n: String!) { gatewayGroup(name: $n) { revision } }', { n: opts.group })).gatewayGroup;
  const token = (await gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { token } }', { g: opts.group })).createGatewayInstanceToken.token;
  const { lines, log } = logSink();
  const gateway = onCleanup(
    await startGateway({ controlPlane: cp.url, group: opts.group, token, port: 0, host: '127.0.0.1', heartbeatMs: 1_000, log }),
    (g) => g.stop(),
  );
  await gateway.configured();
  expect(gateway.proxy.revision).toBe(revision);
  return { gateway, logs: lines, revision };
}

beforeAll(async () => {
  cp = onCleanup(await startTestServer({ env: { STAGECRAFT_SEED: 'true' } }), (s) => s.stop());
  admin = await cp.adminToken();
  petstoreId = (await gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }')).assets.edges[0].node.id;
});

// ---------------------------------------------------------------- DNS

describe('DNS discovery against a DNS server on UDP', () => {
  let petstore: RunningUpstream;
  let dns: Promise<RunningDnsServer> | undefined;
  // Started by the first test that needs it, so a server that cannot start fails tests (not a hook).
  const dnsServer = () =>
    (dns ??= (async () => {
      petstore = onCleanup(await startPetstore(), (p) => p.close());
      return onCleanup(
        await startDnsServer({
          srv: {
            '_petstore._tcp.demo.test': [{ target: 'petstore.demo.test', port: petstore.port, weight: 1 }],
            // two targets with weights, one of them with two addresses
            '_shop._tcp.demo.test': [
              { target: 'a.demo.test', port: 8081, weight: 5 },
              { target: 'b.demo.test', port: 8082, weight: 0 },
            ],
          },
          a: { 'petstore.demo.test': ['127.0.0.1'], 'a.demo.test': ['127.0.0.11'], 'b.demo.test': ['127.0.0.12', '127.0.0.13'] },
        }),
        (d) => d.stop(),
      );
    })());

  it('resolves SRV records at the configured resolver, each target to its A records', async () => {
    const server = await dnsServer();
    const dnsRegistry = registry('DNS', `127.0.0.1:${server.port}`);
    expect(await resolveNodes(discovery(dnsRegistry, '_petstore._tcp.demo.test'))).toEqual([{ host: '127.0.0.1', port: petstore.port, weight: 1 }]);
    expect(byAddress(await resolveNodes(discovery(dnsRegistry, '_shop._tcp.demo.test')))).toEqual([
      { host: '127.0.0.11', port: 8081, weight: 5 },
      { host: '127.0.0.12', port: 8082, weight: 1 }, // SRV weight 0 still gets a share
      { host: '127.0.0.13', port: 8082, weight: 1 },
    ]);
    // a resolver given by name is looked up first (the address is "host:port")
    expect(await resolveNodes(discovery(registry('DNS', `localhost:${server.port}`), '_petstore._tcp.demo.test'))).toEqual([{ host: '127.0.0.1', port: petstore.port, weight: 1 }]);
    // the answers came from our server, not from the system resolver
    expect(server.queries).toContain('SRV _petstore._tcp.demo.test');
    expect(server.queries).toContain('A b.demo.test');
  });

  it('looks up A records for a name:port service, and fails for names it does not know', async () => {
    const server = await dnsServer();
    const dnsRegistry = registry('DNS', `127.0.0.1:${server.port}`);
    expect(await resolveNodes(discovery(dnsRegistry, 'petstore.demo.test:9090'))).toEqual([{ host: '127.0.0.1', port: 9090, weight: 1 }]);
    expect(byAddress(await resolveNodes(discovery(dnsRegistry, 'b.demo.test:80')))).toEqual([
      { host: '127.0.0.12', port: 80, weight: 1 },
      { host: '127.0.0.13', port: 80, weight: 1 },
    ]);
    expect(server.queries).toContain('A petstore.demo.test');
    await expect(resolveNodes(discovery(dnsRegistry, '_nothing._tcp.demo.test'), 1_000)).rejects.toThrow(/querySrv ENOTFOUND/);
    await expect(resolveNodes(discovery(dnsRegistry, 'nothing.demo.test:80'), 1_000)).rejects.toThrow(/queryA ENOTFOUND/);
  });

  it('serves GET /pet/1 through a gateway whose upstream is an SRV record, and follows the record when it changes', async () => {
    let server = await dnsServer();
    const second = onCleanup(await startPetstore(), (p) => p.close());
    const { gateway, logs } = await gatewayWithDiscovery({
      group: 'default',
      registry: { name: 'dns', type: 'DNS', address: `127.0.0.1:${server.port}` },
      discovery: { serviceName: '_petstore._tcp.demo.test' },
    });
    const first = await until('the gateway serves /pet/1', () => get(gateway.port), (r) => r.status === 200);
    expect(first.body).toEqual(dog(1));
    expect(first.upstream).toBe(petstore.port);

    // the DNS server goes away: lookups fail, the gateway keeps the nodes it has
    const port = server.port;
    await server.stop();
    await until('a failed lookup is reported', async () => logs.filter((l) => l.msg === 'service discovery failed; keeping the last nodes').length, (n) => n >= 2, 10 * REFRESH_MS);
    for (let i = 0; i < 5; i++) expect(await get(gateway.port)).toMatchObject({ status: 200, upstream: petstore.port, body: dog(1) });

    // it comes back on the same port with the service moved to the second Petstore
    server = onCleanup(
      await startDnsServer({ srv: { '_petstore._tcp.demo.test': [{ target: 'petstore-2.demo.test', port: second.port }] }, a: { 'petstore-2.demo.test': ['127.0.0.1'] } }, port),
      (d) => d.stop(),
    );
    const took = await trafficMovesTo(gateway.port, second.port, [petstore.port, second.port], 6 * REFRESH_MS);
    expect(took).toBeLessThan(6 * REFRESH_MS);
    expect(server.queries).toContain('SRV _petstore._tcp.demo.test');
    expect(server.queries).toContain('A petstore-2.demo.test');
  });
});

// ---------------------------------------------------------------- NACOS

describe('Nacos discovery', () => {
  it('lists healthy, enabled instances and sends namespace, healthyOnly and the access token', async () => {
    const demo = onCleanup(await startNacosRegistry({ petstore: [{ ip: '127.0.0.1', port: 8080, weight: 2.6 }, { ip: '127.0.0.2', port: 8080 }] }), (n) => n.close());
    expect(byAddress(await resolveNodes(discovery(registry('NACOS', demo.url), 'petstore', 'public')))).toEqual([
      { host: '127.0.0.1', port: 8080, weight: 3 },
      { host: '127.0.0.2', port: 8080, weight: 1 },
    ]);
    expect(await resolveNodes(discovery(registry('NACOS', demo.url), 'unknown'))).toEqual([]);

    // a registry that records the query and also lists unhealthy and disabled instances
    const queries: URLSearchParams[] = [];
    const recorder = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://nacos');
      if (url.pathname !== '/nacos/v1/ns/instance/list') return void res.writeHead(404).end();
      queries.push(url.searchParams);
      const hosts = [
        { ip: '10.0.0.1', port: 80, weight: 1, healthy: true, enabled: true },
        { ip: '10.0.0.2', port: 80, weight: 1, healthy: false, enabled: true },
        { ip: '10.0.0.3', port: 80, weight: 1, healthy: true, enabled: false },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'DEFAULT_GROUP@@petstore', hosts }));
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    onCleanup(recorder, (s) => new Promise((resolve) => s.close(resolve)));
    const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
    expect(await resolveNodes(discovery(registry('NACOS', url, 'nacos-access-token'), 'petstore', 'prod-ns'))).toEqual([{ host: '10.0.0.1', port: 80, weight: 1 }]);
    expect(Object.fromEntries(queries[0]!)).toEqual({ serviceName: 'petstore', namespaceId: 'prod-ns', healthyOnly: 'true', accessToken: 'nacos-access-token' });
  });

  it('routes through the gateway to the instance Nacos lists, and follows it to another', async () => {
    const first = onCleanup(await startPetstore(), (p) => p.close());
    const second = onCleanup(await startPetstore(), (p) => p.close());
    const instances: Record<string, { ip: string; port: number }[]> = { petstore: [{ ip: '127.0.0.1', port: first.port }] };
    const nacos = onCleanup(await startNacosRegistry(instances), (n) => n.close());
    const { gateway } = await gatewayWithDiscovery({
      group: 'nacos-group',
      registry: { name: 'nacos', type: 'NACOS', address: nacos.url },
      discovery: { namespace: 'public', serviceName: 'petstore' },
    });
    const answer = await until('the gateway serves /pet/1', () => get(gateway.port), (r) => r.status === 200);
    expect(answer).toEqual({ status: 200, body: dog(1), upstream: first.port });

    instances.petstore = [{ ip: '127.0.0.1', port: second.port }];
    const took = await trafficMovesTo(gateway.port, second.port, [first.port, second.port], 4 * REFRESH_MS);
    expect(took).toBeLessThan(4 * REFRESH_MS);
    const servedByFirst = first.served();
    for (let i = 0; i < 5; i++) expect((await get(gateway.port, '/pet/7')).body).toEqual(dog(7));
    expect(first.served()).toBe(servedByFirst);
  });
});

// ---------------------------------------------------------------- KUBERNETES

describe('Kubernetes discovery', () => {
  it('lists ready endpoints of the service in its namespace, with the bearer token', async () => {
    const kube = onCleanup(await startFakeKubernetes('k8s-token-1'), (k) => k.close());
    kube.slices = {
      shop: [
        endpointSlice('shop', 'petstore', 'petstore-abc12', 8080, [{ ip: '10.0.0.1', ready: true }, { ip: '10.0.0.2', ready: false }, { ip: '10.0.0.3' }]),
        endpointSlice('shop', 'petstore', 'petstore-def34', 8080, [{ ip: '10.0.0.4', ready: true }]),
        endpointSlice('shop', 'inventory', 'inventory-x1', 9090, [{ ip: '10.0.0.9', ready: true }]),
      ],
      default: [endpointSlice('default', 'petstore', 'petstore-zz', 7070, [{ ip: '10.1.0.1', ready: true }])],
    };
    const reg = registry('KUBERNETES', kube.url, 'k8s-token-1');
    expect(byAddress(await resolveNodes(discovery(reg, 'petstore', 'shop')))).toEqual([
      { host: '10.0.0.1', port: 8080, weight: 1 },
      { host: '10.0.0.3', port: 8080, weight: 1 }, // ready unset means ready
      { host: '10.0.0.4', port: 8080, weight: 1 },
    ]);
    expect(await resolveNodes(discovery(reg, 'petstore'))).toEqual([{ host: '10.1.0.1', port: 7070, weight: 1 }]);
    expect(await resolveNodes(discovery(reg, 'inventory', 'shop'))).toEqual([{ host: '10.0.0.9', port: 9090, weight: 1 }]);
    expect(await resolveNodes(discovery(reg, 'petstore', 'empty-ns'))).toEqual([]);
    expect(kube.requests.map(({ namespace, labelSelector, authorization }) => ({ namespace, labelSelector, authorization }))).toEqual([
      { namespace: 'shop', labelSelector: 'kubernetes.io/service-name=petstore', authorization: 'Bearer k8s-token-1' },
      { namespace: 'default', labelSelector: 'kubernetes.io/service-name=petstore', authorization: 'Bearer k8s-token-1' },
      { namespace: 'shop', labelSelector: 'kubernetes.io/service-name=inventory', authorization: 'Bearer k8s-token-1' },
      { namespace: 'empty-ns', labelSelector: 'kubernetes.io/service-name=petstore', authorization: 'Bearer k8s-token-1' },
    ]);

    await expect(resolveNodes(discovery(registry('KUBERNETES', kube.url, 'wrong-token'), 'petstore', 'shop'))).rejects.toThrow(/HTTP 401/);
    await expect(resolveNodes(discovery(registry('KUBERNETES', kube.url, null), 'petstore', 'shop'))).rejects.toThrow(/HTTP 401/);
    expect(kube.requests.at(-1)!.authorization).toBeNull();
  });

  it('routes through the gateway to ready endpoints only, and follows readiness changes', async () => {
    const first = onCleanup(await startPetstore(), (p) => p.close());
    const second = onCleanup(await startPetstore(), (p) => p.close());
    const kube = onCleanup(await startFakeKubernetes('k8s-secret-token'), (k) => k.close());
    const slices = (firstReady: boolean, secondReady: boolean) => ({
      shop: [
        endpointSlice('shop', 'petstore', 'petstore-a', first.port, [{ ip: '127.0.0.1', ready: firstReady }]),
        endpointSlice('shop', 'petstore', 'petstore-b', second.port, [{ ip: '127.0.0.1', ready: secondReady }]),
      ],
      // the same service name in another namespace must not be used
      default: [endpointSlice('default', 'petstore', 'petstore-other', 1, [{ ip: '127.0.0.1', ready: true }])],
    });
    kube.slices = slices(true, false);
    const { gateway } = await gatewayWithDiscovery({
      group: 'k8s-group',
      registry: { name: 'kubernetes', type: 'KUBERNETES', address: kube.url, token: 'k8s-secret-token' },
      discovery: { namespace: 'shop', serviceName: 'petstore' },
    });
    const answer = await until('the gateway serves /pet/1', () => get(gateway.port), (r) => r.status === 200);
    expect(answer).toEqual({ status: 200, body: dog(1), upstream: first.port });
    for (let i = 0; i < 10; i++) expect((await get(gateway.port)).upstream).toBe(first.port); // not-ready second gets nothing
    expect(second.served()).toBe(0);

    // the second becomes ready and the first stops being ready
    kube.slices = slices(false, true);
    const took = await trafficMovesTo(gateway.port, second.port, [first.port, second.port], 4 * REFRESH_MS);
    expect(took).toBeLessThan(4 * REFRESH_MS);

    // every lookup the gateway made carried the token (sealed in the control plane, sent in
    // the configuration), asked the configured namespace and service, and they came every refreshMs
    const fromGateway = kube.requests;
    expect(fromGateway.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fromGateway.map((r) => `${r.namespace} ${r.labelSelector} ${r.authorization}`))).toEqual(
      new Set(['shop kubernetes.io/service-name=petstore Bearer k8s-secret-token']),
    );
    const before = fromGateway.length;
    await sleep(4 * REFRESH_MS + 200);
    const during = kube.requests.length - before;
    expect(during).toBeGreaterThanOrEqual(3);
    expect(during).toBeLessThanOrEqual(6);
  });

  it('keeps the last nodes when the API server refuses the token', async () => {
    const petstore = onCleanup(await startPetstore(), (p) => p.close());
    const kube = onCleanup(await startFakeKubernetes('good-token'), (k) => k.close());
    kube.slices = { shop: [endpointSlice('shop', 'petstore', 'petstore-a', petstore.port, [{ ip: '127.0.0.1', ready: true }])] };
    const { gateway, logs } = await gatewayWithDiscovery({
      group: 'k8s-rotated',
      registry: { name: 'kubernetes', type: 'KUBERNETES', address: kube.url, token: 'good-token' },
      discovery: { namespace: 'shop', serviceName: 'petstore' },
    });
    await until('the gateway serves /pet/1', () => get(gateway.port), (r) => r.status === 200 && r.upstream === petstore.port);
    kube.token = 'rotated-token'; // the gateway's token is now refused with 401
    await until('a refused lookup is reported', async () => logs.filter((l) => l.msg === 'service discovery failed; keeping the last nodes').length, (n) => n >= 2, 10 * REFRESH_MS);
    expect(logs.find((l) => l.msg === 'service discovery failed; keeping the last nodes')!.err).toMatch(/HTTP 401/);
    expect(JSON.stringify(logs)).not.toContain('good-token');
    for (let i = 0; i < 5; i++) expect(await get(gateway.port)).toMatchObject({ status: 200, upstream: petstore.port });
  });

  it('asks a slow API server one lookup at a time, and keeps serving meanwhile', async () => {
    const petstore = onCleanup(await startPetstore(), (p) => p.close());
    const kube = onCleanup(await startFakeKubernetes('slow-token'), (k) => k.close());
    kube.slices = { shop: [endpointSlice('shop', 'petstore', 'petstore-a', petstore.port, [{ ip: '127.0.0.1', ready: true }])] };
    const { gateway } = await gatewayWithDiscovery({
      group: 'k8s-slow',
      registry: { name: 'kubernetes', type: 'KUBERNETES', address: kube.url, token: 'slow-token' },
      discovery: { namespace: 'shop', serviceName: 'petstore' },
    });
    await until('the gateway serves /pet/1', () => get(gateway.port), (r) => r.status === 200 && r.upstream === petstore.port);
    kube.delayMs = 3 * REFRESH_MS; // each answer takes three refresh intervals
    const started = kube.requests.length;
    const deadline = Date.now() + 8 * REFRESH_MS;
    while (Date.now() < deadline) {
      expect(await get(gateway.port)).toMatchObject({ status: 200, upstream: petstore.port });
      await sleep(100);
    }
    expect(kube.requests.length - started).toBeGreaterThanOrEqual(1);
    expect(kube.maxInFlight).toBe(1);
  });
});
