/**
 * The graphql-transport-ws protocol as the server speaks it, driven by a raw `ws` client (not
 * graphql-ws's own client, which would hide the protocol): close codes, acknowledgement,
 * authentication and authorization of subscriptions, and the same operation limits as HTTP.
 */
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { bearer, connect, connectAndInit, opened, PROTOCOL, withTimeout, WAIT_MS, type Message } from '../support/ws-peer.js';


afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

describe('graphql-transport-ws protocol', () => {
  let server: TestServer;
  beforeAll(async () => {
    // maxDepth 2 so that a valid operation can be too deep (the schema has no deeper nesting
    // than login → user → field); every other operation here stays within 2.
    server = await startTestServer({ configure: (c) => { c.limits.maxDepth = 2; } });
  });
  afterAll(() => server?.stop());

  describe('subprotocol', () => {
    it('refuses a socket offering only the old graphql-ws subprotocol (subscriptions-transport-ws)', async () => {
      const ws = new WebSocket(server.wsUrl, 'graphql-ws');
      opened.push(ws);
      const outcome = await withTimeout(
        new Promise<{ opened: boolean; protocol?: string; error?: string }>((resolve) => {
          ws.once('open', () => resolve({ opened: true, protocol: ws.protocol }));
          ws.once('error', (err) => resolve({ opened: false, error: err.message }));
        }),
        WAIT_MS,
        'the handshake to finish',
      );
      // The server does not agree to the protocol, so the handshake carries none and the client gives up.
      expect(outcome).toEqual({ opened: false, error: 'Server sent no subprotocol' });
    });

    it('closes a socket that offers no subprotocol with 4406', async () => {
      const peer = await connect(server.wsUrl, []);
      expect(peer.ws.protocol).toBe('');
      expect(await peer.closed()).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });
    });

    it('agrees to graphql-transport-ws', async () => {
      const peer = await connect(server.wsUrl, ['graphql-ws', PROTOCOL]);
      expect(peer.ws.protocol).toBe(PROTOCOL);
    });
  });

  describe('close codes', () => {
    it('4400 for a message that is not JSON', async () => {
      const peer = await connect(server.wsUrl);
      peer.send('this is not json');
      expect(await peer.closed()).toEqual({ code: 4400, reason: 'Invalid message received' });
    });

    it('4400 for a message of an unknown type, also after the acknowledgement', async () => {
      const peer = await connectAndInit(server.wsUrl);
      peer.send({ type: 'start', id: '1', payload: { query: '{ me { id } }' } }); // subscriptions-transport-ws speak
      expect(await peer.closed()).toEqual({ code: 4400, reason: 'Invalid message received' });
    });

    it('4400 for a subscribe without an id', async () => {
      const peer = await connectAndInit(server.wsUrl);
      peer.send({ type: 'subscribe', payload: { query: '{ me { id } }' } });
      expect((await peer.closed()).code).toBe(4400);
    });

    it('4401 for a subscribe before connection_ack', async () => {
      const peer = await connect(server.wsUrl);
      peer.send({ type: 'subscribe', id: '1', payload: { query: '{ me { id } }' } });
      expect(await peer.closed()).toEqual({ code: 4401, reason: 'Unauthorized' });
    });

    it('4403 for a connection_init with an invalid bearer token', async () => {
      const peer = await connect(server.wsUrl);
      peer.send({ type: 'connection_init', payload: { Authorization: 'Bearer bogus' } });
      expect(await peer.closed()).toEqual({ code: 4403, reason: 'Forbidden' });
    });

    it('4409 for a second subscribe with an id already in use', async () => {
      const peer = await connectAndInit(server.wsUrl, bearer(await server.adminToken()));
      const subscribe = { type: 'subscribe', id: 'dup', payload: { query: 'subscription { auditLog { type } }' } };
      peer.send(subscribe);
      peer.send(subscribe);
      expect(await peer.closed()).toEqual({ code: 4409, reason: 'Subscriber for dup already exists' });
    });

    it('4429 for a second connection_init', async () => {
      const peer = await connectAndInit(server.wsUrl);
      peer.send({ type: 'connection_init' });
      expect(await peer.closed()).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
    });

    it('1009 for a message over the size limit, logged as one JSON line and nothing on the console', async () => {
      const consoleWrites: unknown[] = [];
      const spies = (['error', 'warn', 'log'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...args) => void consoleWrites.push(args)));
      try {
        const peer = await connectAndInit(server.wsUrl);
        const before = server.logs.length;
        peer.send({ type: 'ping', payload: { pad: 'x'.repeat(server.config.limits.bodyBytes + 1) } });
        expect((await peer.closed()).code).toBe(1009);
        const lines = server.logs.slice(before).filter((l) => l.msg === 'WebSocket closed after a socket error');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 40, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
        expect(JSON.stringify(lines[0])).not.toContain('xxxxxxxx');
        expect(consoleWrites).toEqual([]);
        // The server keeps serving.
        const next = await connectAndInit(server.wsUrl);
        next.send({ type: 'ping' });
        expect(await next.next()).toEqual({ type: 'pong' });
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    });

    it('answers ping with pong and keeps the socket open', async () => {
      const peer = await connectAndInit(server.wsUrl);
      peer.send({ type: 'ping' });
      expect(await peer.next()).toEqual({ type: 'pong' });
      expect(peer.ws.readyState).toBe(WebSocket.OPEN);
    });
  });

  describe('authentication and authorization', () => {
    it('acknowledges a valid token and streams auditLog events as `next` messages', async () => {
      const admin = await server.adminToken();
      const peer = await connectAndInit(server.wsUrl, bearer(admin));
      peer.send({ type: 'subscribe', id: 'audit', payload: { query: 'subscription { auditLog { type actor details } }' } });

      // The subscription starts listening asynchronously and there is no message saying it has:
      // create users until one is heard (normally the first), instead of sleeping a guessed time.
      let event: Message | undefined;
      const created: string[] = [];
      for (let i = 0; i < 10 && !event; i++) {
        const username = `ws-audit-${i}`;
        const res = await server.gql(`mutation { createUser(input: { username: "${username}", password: "password-123", role: VIEWER }) { id } }`, {}, admin);
        expect(res.errors).toBeUndefined();
        created.push(username);
        event = await peer.next(300).catch(() => undefined);
      }
      expect(event).toBeDefined();
      expect(event).toMatchObject({ id: 'audit', type: 'next', payload: { data: { auditLog: { type: 'USER_CREATED', actor: 'admin' } } } });
      expect(created).toContain(event!.payload.data.auditLog.details.username);
      expect(event!.payload.errors).toBeUndefined();

      // The client ends the subscription; the socket stays usable.
      peer.send({ type: 'complete', id: 'audit' });
      peer.send({ type: 'subscribe', id: 'me', payload: { query: '{ me { username } }' } });
      let reply = await peer.next();
      while (reply.id === 'audit') reply = await peer.next(); // an event that raced the complete
      expect(reply).toEqual({ id: 'me', type: 'next', payload: { data: { me: { username: 'admin' } } } });
      expect(await peer.next()).toEqual({ id: 'me', type: 'complete' });
    });

    it('acknowledges an anonymous connection, but subscribing to auditLog yields an UNAUTHENTICATED error', async () => {
      const peer = await connectAndInit(server.wsUrl, {});
      peer.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { auditLog { type } }' } });
      const reply = await peer.next();
      expect(reply).toMatchObject({ id: '1', type: 'error' });
      expect(reply.payload).toHaveLength(1);
      expect(reply.payload[0].extensions.code).toBe('UNAUTHENTICATED');
      // The error ends the operation: no `next` or `complete` follows, and the socket stays usable.
      peer.send({ type: 'ping' });
      expect(await peer.next()).toEqual({ type: 'pong' });
    });

    it('a VIEWER subscribing to auditLog gets a FORBIDDEN error', async () => {
      const peer = await connectAndInit(server.wsUrl, bearer(await server.userWithRole('VIEWER')));
      peer.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { auditLog { type } }' } });
      const reply = await peer.next();
      expect(reply).toMatchObject({ id: '1', type: 'error' });
      expect(reply.payload).toHaveLength(1);
      expect(reply.payload[0].extensions).toMatchObject({ code: 'FORBIDDEN', missing: ['MANAGE_USERS'] });
    });

    it('a subscription whose variables do not coerce gets an error, not a `next`', async () => {
      const peer = await connectAndInit(server.wsUrl, bearer(await server.adminToken()));
      const query = 'subscription($after: Int) { auditLog(afterSequence: $after) { type } }';
      peer.send({ type: 'subscribe', id: '1', payload: { query, variables: { after: 'not a number' } } });
      const reply = await peer.next();
      expect(reply).toMatchObject({ id: '1', type: 'error' });
      expect(reply.payload[0].message).toMatch(/^Variable "\$after" got invalid value "not a number"/);
    });
  });

  describe('the same limits as over HTTP', () => {
    interface HttpReply {
      status: number;
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, any> }[];
    }

    /** Sends the operation over ws and over HTTP, signed in as admin; returns both replies. */
    async function both(query: string, operationName?: string): Promise<{ ws: Message; http: HttpReply }> {
      const admin = await server.adminToken();
      const peer = await connectAndInit(server.wsUrl, bearer(admin));
      peer.send({ type: 'subscribe', id: 'op', payload: { query, operationName } });
      const ws = await peer.next();
      const res = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query, operationName }),
      });
      return { ws, http: { status: res.status, ...((await res.json()) as object) } };
    }

    function expectRefused(ws: Message, http: HttpReply, code: string, message: RegExp) {
      expect(ws).toMatchObject({ id: 'op', type: 'error' });
      expect(ws.payload.map((e: { message: string }) => e.message)).toEqual([expect.stringMatching(message)]);
      expect(http.status).toBe(400);
      expect(http.data).toBeUndefined();
      expect(http.errors).toHaveLength(1);
      expect(http.errors![0]!.extensions?.code).toBe(code);
      expect(http.errors![0]!.message).toMatch(message);
      // One rule, one message, on both transports.
      expect(ws.payload[0].message).toBe(http.errors![0]!.message);
    }

    function expectAccepted(ws: Message, http: HttpReply) {
      expect(ws).toMatchObject({ id: 'op', type: 'next' });
      expect(ws.payload.errors).toBeUndefined();
      expect(http.status).toBe(200);
      expect(http.errors).toBeUndefined();
    }

    it('refuses an operation deeper than maxDepth', async () => {
      const { maxDepth } = server.config.limits;
      expect(maxDepth).toBe(2);
      const deep = await both('mutation { login(username: "nobody", password: "no-password") { user { username } } }');
      expectRefused(deep.ws, deep.http, 'GRAPHQL_VALIDATION_FAILED', new RegExp(`^query depth 3 exceeds the limit of ${maxDepth}$`));
      const ok = await both('{ me { username } }');
      expectAccepted(ok.ws, ok.http);
    });

    it('refuses an operation with more aliases than maxAliases', async () => {
      const { maxAliases } = server.config.limits;
      const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
      const over = await both(aliased(maxAliases + 1));
      expectRefused(over.ws, over.http, 'GRAPHQL_VALIDATION_FAILED', new RegExp(`^${maxAliases + 1} aliases exceed the limit of ${maxAliases}$`));
      const ok = await both(aliased(maxAliases));
      expectAccepted(ok.ws, ok.http);
    });

    it('refuses an operation with more than maxTokens tokens', async () => {
      const { maxTokens } = server.config.limits;
      // Many small operations (8 tokens each: `query Qn { me { id } }`), padded with extra `id`s in
      // the first: many selections of one field would trip graphql-js's own overlap-check budget.
      const withTokens = (n: number) => {
        const operations = Math.floor(n / 8);
        const padding = 'id '.repeat(n - operations * 8);
        return Array.from({ length: operations }, (_, i) => `query Q${i} { me { id ${i === 0 ? padding : ''}} }`).join('\n');
      };
      const over = await both(withTokens(maxTokens + 1), 'Q0');
      // (graphql-js spells it "more that")
      expectRefused(over.ws, over.http, 'GRAPHQL_PARSE_FAILED', new RegExp(`^Syntax Error: Document contains more tha[nt] ${maxTokens} tokens`));
      const ok = await both(withTokens(maxTokens), 'Q0');
      expectAccepted(ok.ws, ok.http);
    });
  });
});

describe('graphql-transport-ws connection_init timeout', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ configure: (c) => { c.limits.wsInitTimeoutMs = 500; } });
  });
  afterAll(() => server?.stop());

  it('4408 when no connection_init arrives within wsInitTimeoutMs', async () => {
    const started = Date.now();
    const peer = await connect(server.wsUrl);
    expect(await peer.closed()).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2000);
  });

  it('keeps a socket that sent connection_init in time open past the timeout', async () => {
    const peer = await connectAndInit(server.wsUrl);
    await new Promise((r) => setTimeout(r, 700));
    expect(peer.ws.readyState).toBe(WebSocket.OPEN);
    peer.send({ type: 'ping' });
    expect(await peer.next()).toEqual({ type: 'pong' });
  });
});
