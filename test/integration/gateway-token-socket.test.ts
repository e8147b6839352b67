/**
 * A revoked gateway token's open graphql-ws connection closes (4403), on the replica that
 * revoked it and on another replica of the same database.
 *
 * This rests on the shared contract (revocation runs `pg_notify('stagecraft_auth', '')` in its
 * transaction — done by GatewayService.revokeInstanceToken — and every replica re-validates its
 * open sockets on that notification — src/server/socket-sessions.ts).
 */
import { randomBytes } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';


let database: Awaited<ReturnType<typeof createTestDatabase>>;
let a: TestServer;
let b: TestServer;

describe('a revoked gateway token loses its open sockets', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { STAGECRAFT_SECRET_KEY: randomBytes(32).toString('base64') };
    a = await startTestServer({ databaseUrl: database.url, env });
    b = await startTestServer({ databaseUrl: database.url, env });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  /** A gateway's configuration stream on `server`; resolves once the first snapshot is in. */
  async function openStream(server: TestServer, token: string) {
    const closed: { code: number; at: number }[] = [];
    const client: Client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      on: { closed: (event) => void closed.push({ code: (event as { code: number }).code, at: Date.now() }) },
    });
    const updates: number[] = [];
    let ended: unknown = null;
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ gatewayConfig: { revision: number } }>(
        { query: 'subscription { gatewayConfig(group: "default") { revision } }' },
        {
          next: ({ data }) => {
            updates.push(data!.gatewayConfig.revision);
            resolve();
          },
          error: (err) => {
            ended = err;
            reject(err);
          },
          complete: () => (ended = 'complete'),
        },
      );
    });
    return { client, closed, updates, ended: () => ended };
  }

  const revoke = async (server: TestServer, id: string) => {
    const res = await server.gql('mutation($id: ID!) { revokeGatewayInstanceToken(id: $id) { revokedAt } }', { id }, await server.adminToken());
    expect(res.errors).toBeUndefined();
    return Date.now();
  };
  const newToken = async (server: TestServer) =>
    (await server.gql('mutation { createGatewayInstanceToken(gatewayGroup: "default") { id token } }', {}, await server.adminToken())).data!.createGatewayInstanceToken as { id: string; token: string };

  it('closes 4403 within a second on the replica that revoked it', async () => {
    const { id, token } = await newToken(a);
    const stream = await openStream(a, token);
    const revokedAt = await revoke(a, id);
    await expect.poll(() => stream.closed.length, { timeout: 2_000 }).toBe(1);
    expect(stream.closed[0]!.code).toBe(4403);
    expect(stream.closed[0]!.at - revokedAt).toBeLessThan(1_000);
    await stream.client.dispose();
  });

  it('closes 4403 within a second on another replica of the same database', async () => {
    const { id, token } = await newToken(a);
    const stream = await openStream(b, token);
    const revokedAt = await revoke(a, id);
    await expect.poll(() => stream.closed.length, { timeout: 2_000 }).toBe(1);
    expect(stream.closed[0]!.code).toBe(4403);
    expect(stream.closed[0]!.at - revokedAt).toBeLessThan(1_000);
    await stream.client.dispose();
  });

  it('leaves the sockets of the group’s other tokens open', async () => {
    const keep = await newToken(a);
    const drop = await newToken(a);
    const kept = await openStream(b, keep.token);
    const dropped = await openStream(b, drop.token);
    await revoke(a, drop.id);
    await expect.poll(() => dropped.closed.length, { timeout: 2_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(kept.closed).toEqual([]);
    expect(kept.ended()).toBeNull();
    await kept.client.dispose();
    await dropped.client.dispose();
  });
});
