/**
 * A forced deleteGatewayGroup always ends its gateways' serving, whatever arrives first: the
 * DELETED update of the configuration stream, or the credential re-check closing the socket
 * (its tokens went with the group). Real gateways (startGateway, in process) against two real
 * replicas of one database; a gateway away during the delete learns it when it reconnects. A
 * merely revoked token keeps its gateway serving the last configuration while it retries.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/dataplane/agent.js';
import { GROUP_DELETED_CLOSE } from '../../src/dataplane/config.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { get, until } from '../support/polling.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DELETED_LOG = 'the gateway group was deleted on the control plane; answering 503 to every request';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let a: TestServer;
let b: TestServer;
let admin: string;
const cleanups: (() => Promise<unknown>)[] = [];

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await a.gql(query, variables, admin);
  if (res.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(res.errors)}`);
  return res.data;
}
const createGroup = async (name: string) => {
  await gql('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: name });
  return (await gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { id token } }', { g: name })).createGatewayInstanceToken as { id: string; token: string };
};
const forceDelete = async (name: string) => expect(await gql('mutation($n: String!) { deleteGatewayGroup(name: $n, force: true) }', { n: name })).toEqual({ deleteGatewayGroup: true });

/** A TCP relay in front of a control plane: `cut()` drops every connection and refuses new ones until `resume()`. */
async function relay(target: number) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = net.createServer((client) => {
        accepted++;
        const upstream = net.connect(target, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  const close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server!.close(() => resolve());
  });
  return { port, url: `http://127.0.0.1:${port}`, accepted: () => accepted, cut: close, resume: () => listen(port).then(() => undefined), close };
}

function gatewayOn(controlPlane: string, group: string, token: string) {
  const logs: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  return startGateway({ controlPlane, group, token, port: 0, host: '127.0.0.1', heartbeatMs: 200, log: createLogger('info', sink) }).then((gateway) => {
    cleanups.push(() => gateway.stop());
    return { gateway, logs };
  });
}

const answers503 = (gateway: RunningGateway) => until('the gateway answers 503 GROUP_DELETED', () => get(gateway.port), (r) => r.status === 503 && r.body?.error?.code === 'GROUP_DELETED', 5_000);

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { STAGECRAFT_SECRET_KEY: randomBytes(32).toString('base64') };
  a = await startTestServer({ databaseUrl: database.url, env });
  b = await startTestServer({ databaseUrl: database.url, env });
  admin = await a.adminToken();
});
afterAll(async () => {
  for (const step of cleanups.reverse()) await step().catch(() => undefined);
  await a?.stop();
  await b?.stop();
  await database?.drop();
});

describe('a forced deleteGatewayGroup stops its gateways, whichever news comes first', () => {
  it('a connected gateway answers 503 GROUP_DELETED and stops reconnecting, every time (8 rounds, both replicas)', async () => {
    for (let round = 0; round < 8; round++) {
      const group = `doomed-${round}`;
      const { token } = await createGroup(group);
      const front = await relay(Number(new URL((round % 2 ? b : a).url).port));
      cleanups.push(front.close);
      const { gateway, logs } = await gatewayOn(front.url, group, token);
      await gateway.configured();
      // Some rounds delete at once, others after heartbeats have run: the two notices race differently.
      if (round % 4 >= 2) await new Promise((r) => setTimeout(r, 300));
      await forceDelete(group);
      const answer = await answers503(gateway);
      expect(answer.body.error.message).toBe(`The gateway group ${group} was deleted on the control plane; this instance serves nothing.`);
      expect(logs.filter((l) => l.msg === DELETED_LOG)).toHaveLength(1);
      // It stays so: no reconnect attempt through the relay.
      const connections = front.accepted();
      await new Promise((r) => setTimeout(r, 1_200));
      expect(front.accepted()).toBe(connections);
      expect((await get(gateway.port)).status).toBe(503);
    }
  });

  it('the socket of a deleted group’s token closes GROUP_DELETED_CLOSE naming the group, even with no configuration stream open', async () => {
    const { token } = await createGroup('closed-by-check');
    const closed: { code: number; reason: string }[] = [];
    let connected = false;
    const client = createClient({
      url: b.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      on: { connected: () => void (connected = true), closed: (e) => void closed.push({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason) }) },
    });
    cleanups.push(async () => client.dispose());
    await until('connected', async () => connected, (ok) => ok, 3_000);
    await forceDelete('closed-by-check');
    await until('the socket closes', async () => closed.length, (n) => n === 1, 3_000);
    expect(closed[0]).toEqual({ code: GROUP_DELETED_CLOSE, reason: 'gateway group closed-by-check was deleted; its join tokens no longer count' });
    // HTTP says the same, with the reason machine-readable.
    const res = await a.gql('mutation { gatewayHeartbeat(instanceId: "00000000-0000-4000-8000-000000000000", hostname: "x", revision: 0) }', {}, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'GROUP_DELETED', group: 'closed-by-check' });
  });
});

describe('a gateway away during the delete', () => {
  it('keeps serving while away, learns of the deletion when it reconnects, answers 503 and stops reconnecting', async () => {
    const { token } = await createGroup('away');
    const front = await relay(Number(new URL(a.url).port));
    cleanups.push(front.close);
    const { gateway, logs } = await gatewayOn(front.url, 'away', token);
    await gateway.configured();
    await front.cut();
    await until('the gateway noticed', async () => logs.some((l) => l.msg?.startsWith('control plane connection closed')), (ok) => ok, 5_000);

    await forceDelete('away');
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(gateway.port)).body?.error?.code).toBe('ROUTE_NOT_FOUND'); // still its last configuration
    const before = front.accepted();
    await front.resume();
    await answers503(gateway);
    expect(logs.filter((l) => l.msg === DELETED_LOG)).toHaveLength(1);
    const connections = front.accepted();
    expect(connections).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(front.accepted()).toBe(connections);
  });

  it('a revoked token is refused (4403) but not told anything: the gateway keeps serving its last configuration and keeps retrying', async () => {
    const { id, token } = await createGroup('revoked');
    const front = await relay(Number(new URL(a.url).port));
    cleanups.push(front.close);
    const { gateway, logs } = await gatewayOn(front.url, 'revoked', token);
    await gateway.configured();
    await gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { id } }', { id });
    await until('the refusal is logged', async () => logs.some((l) => l.msg?.startsWith('the control plane refused the gateway token')), (ok) => ok, 5_000);
    const connections = front.accepted();
    await until('it retries', async () => front.accepted(), (n) => n > connections, 5_000);
    expect((await get(gateway.port)).body?.error?.code).toBe('ROUTE_NOT_FOUND');
    expect(logs.some((l) => l.msg === DELETED_LOG)).toBe(false);

    // Its group deleted afterwards: a revoked token learns nothing more, still refused as revoked.
    await forceDelete('revoked');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await get(gateway.port)).body?.error?.code).toBe('ROUTE_NOT_FOUND');
  });
});
