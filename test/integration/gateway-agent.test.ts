/**
 * The data plane's resilience against a real control plane: a gateway instance (startGateway,
 * in process) keeps serving its last configuration while the control plane is down, reconnects
 * when it comes back on the same address and database, and picks up the revision published
 * since; once the gateway stops, its instance stops heartbeating and turns OFFLINE after
 * ONLINE_WINDOW_MS (a real 15 s wait). Then, against a scripted graphql-transport-ws control
 * plane: no resubscription after stop(), and no backlog of heartbeats after an outage.
 */
import { randomBytes } from 'node:crypto';
import { rawKey } from '../../src/graphql/node-id.js';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { startGateway, type RunningGateway } from '../../src/dataplane/agent.js';
import type { GatewayConfig } from '../../src/dataplane/config.js';
import { freePort } from '../../src/db/embedded.js';
import { dog, startPetstore, type RunningUpstream } from '../../src/demo/petstore.js';
import { createLogger } from '../../src/logger.js';
import { ONLINE_WINDOW_MS } from '../../src/services/gateways.js';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { get, until } from '../support/polling.js';

const HEARTBEAT_MS = 500;

// ---------------------------------------------------------------- cleanup

const cleanups: (() => Promise<unknown>)[] = [];
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

// ---------------------------------------------------------------- helpers



/** Does anything accept connections at `url`? */
async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- control plane

let databaseUrl: string;
let cpPort: number;
/** Both control planes share the key, as replicas of one database must. */
const secretKey = randomBytes(32).toString('base64');
let cp: TestServer;
let admin: string;
let petstoreId: string;

/** A control plane on the fixed port and the shared database (which stop() then keeps). */
async function startControlPlane(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ databaseUrl, env: { PORT: String(cpPort), STAGECRAFT_SECRET_KEY: secretKey, ...env } });
  onCleanup(server, (s) => s.stop()); // idempotent: app.stop() is memoised
  return server;
}

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await cp.gql(query, variables, admin);
  if (res.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const publish = async (port: number): Promise<{ id: string; version: string }> =>
  (await gql('mutation($i: PublishServiceInput!) { publishService(input: $i) { id version } }', {
    i: { assetId: petstoreId, gatewayGroup: 'default', upstream: { nodes: [{ host: '127.0.0.1', port, weight: 1 }] } },
  })).publishService;

const groupState = async (): Promise<{ revision: number; instances: { id: string; status: string; configRevision: number; lastSeen: string }[] }> =>
  (await gql('{ gatewayGroup(name: "default") { revision instances { id status configRevision lastSeen } } }')).gatewayGroup;

beforeAll(async () => {
  const database = await createTestDatabase();
  databaseUrl = database.url;
  onCleanup(database, (d) => d.drop()); // registered first, so it runs after every server stopped
  cpPort = await freePort();
  cp = await startControlPlane({ STAGECRAFT_SEED: 'true' });
  expect(cp.url).toBe(`http://127.0.0.1:${cpPort}`);
  admin = await cp.adminToken();
  petstoreId = (await gql('{ assets(filter: { keyword: "Swagger Petstore", types: [API] }) { edges { node { id } } } }')).assets.edges[0].node.id;
});

// ---------------------------------------------------------------- tests

describe('gateway agent against a control plane that goes away', () => {
  let first: RunningUpstream;
  let second: RunningUpstream;
  let gateway: RunningGateway;
  const gatewayLogs: Record<string, any>[] = [];

  it('keeps serving its last configuration while the control plane is down, then reconnects and runs the new revision', async () => {
    first = onCleanup(await startPetstore(), (p) => p.close());
    second = onCleanup(await startPetstore(), (p) => p.close());
    await publish(first.port);
    const r1 = (await groupState()).revision;

    const token = (await gql('mutation { createGatewayInstanceToken(gatewayGroup: "default") { token } }')).createGatewayInstanceToken.token;
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) gatewayLogs.push(JSON.parse(line));
        done();
      },
    });
    gateway = onCleanup(
      await startGateway({ controlPlane: cp.url, group: 'default', token, port: 0, host: '127.0.0.1', heartbeatMs: HEARTBEAT_MS, log: createLogger('info', sink) }),
      (g) => g.stop(),
    );
    await gateway.configured();
    expect(gateway.proxy.revision).toBe(r1);
    expect(await get(gateway.port)).toEqual({ status: 200, body: dog(1), upstream: first.port });
    const online = await until('the instance is ONLINE at revision r1', groupState, (g) => g.instances.some((i) => rawKey(i.id) === gateway.instanceId && i.status === 'ONLINE' && i.configRevision === r1));
    expect(online.instances).toHaveLength(1);

    // ---- the control plane goes away (its database stays)
    await cp.stop();
    expect(await reachable(`http://127.0.0.1:${cpPort}`)).toBe(false);
    await until('the gateway notices', async () => gatewayLogs.some((l) => l.msg === 'control plane connection closed; serving the last configuration'), Boolean, 5_000);
    // while it is down (several heartbeats and reconnect attempts), every request is served
    const downSince = Date.now();
    let servedWhileDown = 0;
    while (Date.now() - downSince < 3_000) {
      expect(await get(gateway.port, `/pet/${servedWhileDown + 1}`)).toEqual({ status: 200, body: dog(servedWhileDown + 1), upstream: first.port });
      servedWhileDown++;
      await sleep(50);
    }
    expect(servedWhileDown).toBeGreaterThan(20);
    expect(gateway.proxy.revision).toBe(r1);

    // ---- it comes back on the same address and database
    cp = await startControlPlane();
    admin = await cp.adminToken();
    const restartedAt = Date.now();
    expect((await groupState()).revision).toBe(r1);
    const { version } = await publish(second.port);
    const r2 = (await groupState()).revision;
    expect(r2).toBe(r1 + 1);
    expect(version).toBe('1.0.1');

    // requests keep succeeding while the gateway reconnects, and then reach the new upstream
    let answer;
    do {
      answer = await get(gateway.port);
      expect(answer.status).toBe(200);
      expect([first.port, second.port]).toContain(answer.upstream);
      if (answer.upstream === second.port) break;
      await sleep(50);
    } while (Date.now() - restartedAt < 20_000);
    expect(answer.upstream, 'the gateway did not pick up the new revision within 20 s of the restart').toBe(second.port);
    expect(gateway.proxy.revision).toBe(r2);
    for (let i = 0; i < 5; i++) expect((await get(gateway.port)).upstream).toBe(second.port);

    const after = await until('the instance is ONLINE at revision r2', groupState, (g) => g.instances.some((i) => i.status === 'ONLINE' && i.configRevision === r2));
    expect(after.instances.map((i: any) => ({ ...i, id: rawKey(i.id) }))).toEqual([expect.objectContaining({ id: gateway.instanceId, status: 'ONLINE', configRevision: r2 })]);
    expect(gatewayLogs.filter((l) => l.msg === 'connected to the control plane').length).toBeGreaterThanOrEqual(2);
  });

  it('turns OFFLINE ONLINE_WINDOW_MS after the gateway stops heartbeating', { timeout: ONLINE_WINDOW_MS + 30_000 }, async () => {
    expect(gateway, 'needs the gateway of the previous test').toBeDefined();
    const instance = async () => (await groupState()).instances.find((i) => rawKey(i.id) === gateway.instanceId)!;

    // heartbeats keep lastSeen fresh while it runs
    const seen = Date.parse((await instance()).lastSeen);
    await until('lastSeen advances', instance, (i) => Date.parse(i.lastSeen) > seen, 5 * HEARTBEAT_MS);

    await gateway.stop();
    await expect(get(gateway.port)).rejects.toThrow(); // nothing listens any more
    const stoppedAt = Date.now();
    const last = await instance();
    const lastSeen = Date.parse(last.lastSeen);
    await sleep(4 * HEARTBEAT_MS);
    const later = await instance();
    expect(later.lastSeen, 'no heartbeat after stop()').toBe(last.lastSeen);
    expect(later.status).toBe('ONLINE'); // still within the window

    const offline = await until('the instance is OFFLINE', instance, (i) => i.status === 'OFFLINE', ONLINE_WINDOW_MS + 5_000, 200);
    const offlineAt = Date.now();
    expect(offline.lastSeen).toBe(last.lastSeen);
    expect(offlineAt - lastSeen).toBeGreaterThanOrEqual(ONLINE_WINDOW_MS);
    expect(offlineAt - lastSeen).toBeLessThan(ONLINE_WINDOW_MS + 2_000);
    expect(stoppedAt - lastSeen).toBeLessThan(HEARTBEAT_MS + 1_000);
  });
});

// ---------------------------------------------------------------- a scripted control plane

/**
 * Speaks graphql-transport-ws like the control plane does to gateways, with scripted behaviour
 * the real one cannot be made to show on demand: completing the configuration subscription right
 * after a snapshot, and going away and coming back on the same port.
 */
interface ScriptedControlPlane {
  url: string;
  /** WebSocket connections accepted so far. */
  connections: number;
  /** gatewayConfig subscriptions received, with the time each arrived. */
  configSubscriptions: number[];
  /** gatewayHeartbeat mutations received: arrival time and reported revision. */
  heartbeats: { at: number; revision: number }[];
  /** Heartbeats are answered this much later. */
  heartbeatDelayMs: number;
  /** Most heartbeats awaiting their answer on one connection at the same time so far. */
  maxHeartbeatsInFlight: number;
  /** After sending a snapshot, complete the subscription (the server ending it). */
  completeAfterSnapshot: boolean;
  /** Drops every connection and stops listening. */
  goAway(): Promise<void>;
  /** Listens again on the same port. */
  comeBack(): Promise<void>;
}

async function startScriptedControlPlane(config: GatewayConfig): Promise<ScriptedControlPlane> {
  let wss: WebSocketServer | undefined;
  let port = 0;
  const cpState: ScriptedControlPlane = {
    url: '',
    connections: 0,
    configSubscriptions: [],
    heartbeats: [],
    heartbeatDelayMs: 0,
    maxHeartbeatsInFlight: 0,
    completeAfterSnapshot: false,
    goAway: async () => {
      if (!wss) return;
      const closing = wss;
      wss = undefined;
      for (const socket of closing.clients) socket.terminate();
      await new Promise((resolve) => closing.close(resolve));
    },
    comeBack: async () => {
      const server = new WebSocketServer({ host: '127.0.0.1', port, path: '/graphql', handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false) });
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
      port = (server.address() as AddressInfo).port;
      server.on('connection', (socket) => serve(socket));
      wss = server;
    },
  };
  const serve = (socket: WebSocket) => {
    cpState.connections++;
    let heartbeatsInFlight = 0;
    const send = (message: unknown) => socket.send(JSON.stringify(message));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; id?: string; payload?: { query: string; variables?: Record<string, any> } };
      if (message.type === 'connection_init') return send({ type: 'connection_ack' });
      if (message.type === 'ping') return send({ type: 'pong' });
      if (message.type !== 'subscribe') return;
      const { id, payload } = message;
      if (payload!.query.includes('gatewayConfig')) {
        cpState.configSubscriptions.push(Date.now());
        send({ id, type: 'next', payload: { data: { gatewayConfig: { revision: config.revision, config } } } });
        if (cpState.completeAfterSnapshot) send({ id, type: 'complete' });
      } else if (payload!.query.includes('gatewayHeartbeat')) {
        cpState.heartbeats.push({ at: Date.now(), revision: payload!.variables!.r });
        cpState.maxHeartbeatsInFlight = Math.max(cpState.maxHeartbeatsInFlight, ++heartbeatsInFlight);
        setTimeout(() => {
          heartbeatsInFlight--;
          if (socket.readyState !== socket.OPEN) return;
          send({ id, type: 'next', payload: { data: { gatewayHeartbeat: true } } });
          send({ id, type: 'complete' });
        }, cpState.heartbeatDelayMs);
      }
    });
  };
  await cpState.comeBack();
  cpState.url = `http://127.0.0.1:${port}`;
  onCleanup(cpState, (c) => c.goAway());
  return cpState;
}

const quietLog = () => createLogger('silent');
const emptyConfig: GatewayConfig = { group: 'default', revision: 7, services: [] };

describe('gateway agent against a scripted control plane', () => {
  it('subscribes again when the control plane ends the subscription, but never after stop()', async () => {
    const fake = await startScriptedControlPlane(emptyConfig);
    fake.completeAfterSnapshot = true;
    const gateway = await startGateway({ controlPlane: fake.url, group: 'default', token: 'gwt_x', port: 0, host: '127.0.0.1', heartbeatMs: 60_000, log: quietLog() });
    onCleanup(gateway, (g) => g.stop());
    await gateway.configured();
    expect(gateway.proxy.revision).toBe(7);
    // it comes back for the configuration after the server completed it
    await until('a second subscription', async () => fake.configSubscriptions.length, (n) => n >= 2, 5_000, 20);

    // stop right after a snapshot and its completion: the resubscription it had planned must not happen
    const seen = fake.configSubscriptions.length;
    await until('the next snapshot', async () => fake.configSubscriptions.length, (n) => n > seen, 5_000, 5);
    await sleep(50);
    await gateway.stop();
    const connections = fake.connections;
    const subscriptions = fake.configSubscriptions.length;
    await sleep(2_500);
    expect(fake.connections, 'no connection after stop()').toBe(connections);
    expect(fake.configSubscriptions.length, 'no subscription after stop()').toBe(subscriptions);
  });

  it('sends one heartbeat at a time: none pile up while the control plane is away', async () => {
    const fake = await startScriptedControlPlane(emptyConfig);
    fake.heartbeatDelayMs = 20;
    const gateway = await startGateway({ controlPlane: fake.url, group: 'default', token: 'gwt_x', port: 0, host: '127.0.0.1', heartbeatMs: 100, log: quietLog() });
    onCleanup(gateway, (g) => g.stop());
    await gateway.configured();
    await until('heartbeats', async () => fake.heartbeats.length, (n) => n >= 3, 5_000, 20);
    expect(fake.heartbeats.every((h) => h.revision === 7)).toBe(true);

    await fake.goAway();
    await sleep(2_000); // 20 heartbeat periods
    const before = fake.heartbeats.length;
    await fake.comeBack();
    await until('the gateway reconnects', async () => fake.configSubscriptions.length, (n) => n >= 2, 15_000, 20);
    await sleep(500);
    // back: heartbeats resume one at a time (not a backlog of 20 sent at once on reconnect)
    const after = fake.heartbeats.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.every((h) => h.revision === 7)).toBe(true);
    expect(fake.maxHeartbeatsInFlight).toBe(1);
  });
});
