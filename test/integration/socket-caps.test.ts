/**
 * Bounds on graphql-ws per principal: sockets per user (4429, naming the limit), subscriptions
 * per socket and per user (TOO_MANY_REQUESTS, naming the limit). Closing frees the slots.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { bearer, connect, connectAndInit, opened, type Peer } from '../support/ws-peer.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    configure: (c) => Object.assign(c.auth, { socketsPerUser: 3, subscriptionsPerSocket: 2, subscriptionsPerUser: 3 }),
  });
});
afterAll(() => server?.stop());
afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

const AUDIT = { query: 'subscription { auditLog { type } }' };

/** Subscribes; resolves with the error message's payload, or null when the stream is running. */
async function subscribe(peer: Peer, id: string): Promise<any[] | null> {
  peer.send({ type: 'subscribe', id, payload: AUDIT });
  const reply = await peer.next(400).catch(() => null); // a running auditLog says nothing until an event
  if (reply === null) return null;
  expect(reply).toMatchObject({ id, type: 'error' });
  return reply.payload;
}

describe('sockets per user', () => {
  it('closes the socket over the limit with 4429 naming it; a closed socket frees its slot', async () => {
    const admin = await server.adminToken();
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await connectAndInit(server.wsUrl, bearer(admin)));
    const extra = await connect(server.wsUrl);
    extra.send({ type: 'connection_init', payload: bearer(admin) });
    expect(await extra.closed()).toEqual({ code: 4429, reason: 'too many open sockets: the limit is 3 per user' });

    // Another user is not affected.
    await connectAndInit(server.wsUrl, bearer(await server.userWithRole('VIEWER')));

    held[0]!.ws.close();
    await held[0]!.closed();
    await new Promise((r) => setTimeout(r, 100));
    await connectAndInit(server.wsUrl, bearer(admin));
  });

  it('counts anonymous sockets per client address', async () => {
    for (let i = 0; i < 3; i++) await connectAndInit(server.wsUrl);
    const extra = await connect(server.wsUrl);
    extra.send({ type: 'connection_init' });
    expect((await extra.closed()).code).toBe(4429);
  });
});

describe('subscriptions', () => {
  it('per socket: the one over the limit is refused TOO_MANY_REQUESTS; the socket stays usable', async () => {
    const peer = await connectAndInit(server.wsUrl, bearer(await server.adminToken()));
    expect(await subscribe(peer, 'a')).toBeNull();
    expect(await subscribe(peer, 'b')).toBeNull();
    const refused = await subscribe(peer, 'c');
    expect(refused).toEqual([expect.objectContaining({
      message: 'too many subscriptions on this socket: the limit is 2',
      extensions: { code: 'TOO_MANY_REQUESTS', limit: 2 },
    })]);
    // Completing one frees its slot.
    peer.send({ type: 'complete', id: 'a' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await subscribe(peer, 'd')).toBeNull();
  });

  it('per user, over all their sockets', async () => {
    const admin = await server.adminToken();
    const one = await connectAndInit(server.wsUrl, bearer(admin));
    const two = await connectAndInit(server.wsUrl, bearer(admin));
    expect(await subscribe(one, 'a')).toBeNull();
    expect(await subscribe(one, 'b')).toBeNull();
    expect(await subscribe(two, 'c')).toBeNull();
    expect((await subscribe(two, 'd'))?.[0]).toMatchObject({
      message: 'too many subscriptions: the limit is 3 per user',
      extensions: { code: 'TOO_MANY_REQUESTS', limit: 3 },
    });
    // Queries are not subscriptions: still answered.
    two.send({ type: 'subscribe', id: 'q', payload: { query: '{ me { username } }' } });
    expect(await two.next()).toEqual({ id: 'q', type: 'next', payload: { data: { me: { username: 'admin' } } } });
    expect(await two.next()).toEqual({ id: 'q', type: 'complete' });
    // Closing a socket frees its subscriptions' slots.
    one.ws.close();
    await one.closed();
    await new Promise((r) => setTimeout(r, 100));
    expect(await subscribe(two, 'e')).toBeNull();
  });
});

describe('gateway join tokens', () => {
  /** A group with a join token; its instances subscribe to the group's configuration. */
  async function joinToken(group: string): Promise<string> {
    const admin = await server.adminToken();
    await server.gql('mutation($n: String!) { createGatewayGroup(input: { name: $n }) { name } }', { n: group }, admin);
    const created = await server.gql('mutation($g: String!) { createGatewayInstanceToken(gatewayGroup: $g) { token } }', { g: group }, admin);
    return (created.data as any).createGatewayInstanceToken.token;
  }
  const configOf = (group: string) => ({ query: 'subscription($g: String!) { gatewayConfig(group: $g) { revision } }', variables: { g: group } });

  it('count against the token, not the user caps or the address: more instances than a user may hold, each subscribed', async () => {
    const [east, west] = [await joinToken('caps-east'), await joinToken('caps-west')];
    // More sockets and subscriptions than socketsPerUser (3) and subscriptionsPerUser (3), all
    // from this one address, for one token; another token on the same address is not affected.
    for (const [token, group] of [[east, 'caps-east'], [west, 'caps-west']] as const) {
      for (let i = 0; i < 5; i++) {
        const instance = await connectAndInit(server.wsUrl, bearer(token));
        instance.send({ type: 'subscribe', id: 'config', payload: configOf(group) });
        expect(await instance.next(), `${group} instance ${i + 1}`).toMatchObject({ id: 'config', type: 'next', payload: { data: { gatewayConfig: { revision: expect.any(Number) } } } });
      }
    }
  });
});
