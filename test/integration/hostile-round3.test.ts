/**
 * Round-3 hostile findings against a real production-mode `stagecraft serve`:
 * - a locked-out address could skip the sign-in tarpit with any non-bearer Authorization header;
 * - a WebSocket peer flooding graphql-ws pings (whose pong echoes the payload) without reading
 *   made the server queue the answers without end (one anonymous socket: ~900 MB in 2.5 s).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnFreshDatabase, type ServeProcess } from '../support/serve-process.js';

let served: Awaited<ReturnType<typeof serveOnFreshDatabase>>;
let child: ServeProcess;
beforeAll(async () => {
  served = await serveOnFreshDatabase('stagecraft-hostile3-', { NODE_ENV: 'production', STAGECRAFT_ADMIN_PASSWORD: 'hostile-round3-admin-password' });
  child = served.child;
}, 60_000);
afterAll(async () => {
  await served?.stop();
});

const login = (headers: Record<string, string> = {}) =>
  fetch(`${child.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: 'mutation { login(username: "nobody", password: "wrong") { token } }' }),
  });

describe('sign-in tarpit', () => {
  it('holds a locked-out address whatever non-bearer Authorization header it sends', async () => {
    // Fail sign-ins until the address is refused with at least 5 s of lock left (each held answer takes 1 s).
    const deadline = Date.now() + 30_000;
    for (;;) {
      expect(Date.now()).toBeLessThan(deadline);
      const res = await login();
      const body = (await res.json()) as { errors?: { extensions?: { code?: string; retryAfterSeconds?: number } }[] };
      if (res.status === 429 && (body.errors?.[0]?.extensions?.retryAfterSeconds ?? 0) >= 5) break;
    }
    for (const authorization of ['x', 'Basic bm9ib2R5Ondyb25n', 'Bearer']) {
      // Malformed JSON: parsed, it would be a 400; refused before parsing, it is the lockout's 429.
      const res = await fetch(`${child.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: '{not json' });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 429 });
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('TOO_MANY_REQUESTS');
    }
    // A bearer token goes through (an unknown one is refused as such, not held).
    const res = await fetch(`${child.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer scs_unknown' }, body: '{"query":"{ __typename }"}' });
    expect(res.status).toBe(401);
  }, 60_000);
});

describe('graphql-ws peer that does not read', () => {
  it('loses its socket once its unread answers pass the bound; the server keeps serving', async () => {
    const url = new URL(child.url);
    const socket = net.connect(Number(url.port), url.hostname);
    socket.write(
      `GET /graphql HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
    );
    const frame = (text: string) => {
      const payload = Buffer.from(text);
      const mask = randomBytes(4);
      return Buffer.concat([Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
    };
    // Each ping's pong echoes its 4 KB payload back.
    const batch = Buffer.concat(Array.from({ length: 256 }, () => frame(JSON.stringify({ type: 'ping', payload: { pad: 'p'.repeat(4000) } }))));
    const outcome = await new Promise<{ closedByServer: boolean; sentMB: number }>((resolve) => {
      let sent = 0;
      let done = false;
      const finish = (closedByServer: boolean) => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve({ closedByServer, sentMB: Math.round(sent / 1e6) });
      };
      socket.once('close', () => finish(true));
      socket.once('error', () => finish(true));
      socket.once('data', () => {
        socket.pause(); // never read again
        const stopAt = Date.now() + 8_000;
        const pump = () => {
          while (!done) {
            if (Date.now() > stopAt || sent > 256e6) return finish(false);
            sent += batch.length;
            if (!socket.write(batch)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
    });
    expect(outcome.closedByServer).toBe(true);
    await expect.poll(() => child.logs.some((l) => l.msg === 'WebSocket peer does not read its messages; terminating it'), { timeout: 5_000 }).toBe(true);
    // (GraphQL would be held: the tarpit test above locked this address out.)
    expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
  }, 60_000);
});
