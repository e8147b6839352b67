/**
 * How one upstream attempt classifies failures, driven through a fake dispatcher so the cases a
 * local socket cannot produce on demand (a connect that hangs) are covered too.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { attempt, type AttemptOutcome, type AttemptRequest, type RawHandler } from '../../src/dataplane/attempt.js';

class FakeResponse extends EventEmitter {
  destroyed = false;
  writableFinished = false;
  status = 0;
  headers: string[] = [];
  chunks: Buffer[] = [];
  ended = false;
  writeHead(status: number, _message?: string, headers: string[] = []) {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: Buffer) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.ended = true;
    this.writableFinished = true;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

/** The abort function undici hands `onConnect`, and the resume function `onHeaders` gets. */
class FakeConnection {
  aborted = false;
  resumed = 0;
  reason: Error | null = null;
  abort = (reason?: Error) => {
    this.aborted = true;
    this.reason = reason ?? null;
  };
  resume = () => void this.resumed++;
}

/** A dispatcher that hands the handler to the test instead of doing I/O. */
function fakePool() {
  const handlers: RawHandler[] = [];
  const pool = { dispatch: (_opts: unknown, handler: RawHandler) => (handlers.push(handler), true) } as unknown as Pick<Dispatcher, 'dispatch'>;
  return { pool, handlers };
}

/** One attempt, its outcome as a promise. */
const run = (pool: Pick<Dispatcher, 'dispatch'>, request: AttemptRequest, res: FakeResponse) =>
  new Promise<AttemptOutcome>((resolve) => attempt(pool, request, res as unknown as ServerResponse, resolve));

const raw = (headers: Record<string, string>) => Object.entries(headers).flatMap(([k, v]) => [Buffer.from(k), Buffer.from(v)]);

const req = (timeoutMs = 50): AttemptRequest => ({ method: 'GET', path: '/x', headers: [], body: null, timeoutMs });
const error = (code: string) => Object.assign(new Error(code), { code });

describe('upstream attempt', () => {
  it('calls a hung connect a connect timeout, and drops the connection if it opens later', async () => {
    const { pool, handlers } = fakePool();
    const outcome = await run(pool, req(30), new FakeResponse());
    expect(outcome).toMatchObject({ kind: 'failed', failure: 'connect-timeout' });
    const late = new FakeConnection();
    handlers[0]!.onConnect(late.abort);
    expect(late.aborted).toBe(true);
  });

  it('calls an error before the connection a connect failure', async () => {
    const { pool, handlers } = fakePool();
    const pending = run(pool, req(), new FakeResponse());
    handlers[0]!.onError(error('ECONNREFUSED'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'connect' });
  });

  it('calls a broken connection before any response a reset', async () => {
    const { pool, handlers } = fakePool();
    const pending = run(pool, req(), new FakeResponse());
    const c = new FakeConnection();
    handlers[0]!.onConnect(c.abort);
    handlers[0]!.onError(error('UND_ERR_SOCKET'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'reset' });
  });

  it('calls missing response headers after connecting a timeout and aborts the request', async () => {
    const { pool, handlers } = fakePool();
    const pending = run(pool, req(30), new FakeResponse());
    const c = new FakeConnection();
    handlers[0]!.onConnect(c.abort);
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'timeout' });
    expect(c.aborted).toBe(true);
  });

  it('calls a request undici refuses invalid', async () => {
    const { pool, handlers } = fakePool();
    const pending = run(pool, req(), new FakeResponse());
    handlers[0]!.onError(error('UND_ERR_INVALID_ARG'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'invalid' });
  });

  it('streams a response with backpressure and ignores 1xx', async () => {
    const { pool, handlers } = fakePool();
    const res = new FakeResponse();
    let full = true;
    res.write = (chunk: Buffer) => (res.chunks.push(chunk), !full);
    const pending = run(pool, req(), res);
    const c = new FakeConnection();
    const h = handlers[0]!;
    h.onConnect(c.abort);
    expect(h.onHeaders(103, raw({ link: '</a.css>' }), c.resume, 'Early Hints')).toBe(true);
    expect(res.status).toBe(0);
    h.onHeaders(200, raw({ 'Content-Type': 'text/plain', Connection: 'close, X-Hop', 'X-Hop': '1', 'Set-Cookie': 'a=1' }).concat(raw({ 'Set-Cookie': 'b=2' })), c.resume, 'OK');
    expect(await pending).toEqual({ kind: 'response', status: 200 });
    // Hop-by-hop headers (and those Connection names) stay behind; duplicates and spelling survive.
    expect(res.headers).toEqual(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    expect(h.onData(Buffer.from('a'))).toBe(false); // client full: undici pauses the upstream
    full = false;
    res.emit('drain');
    expect(c.resumed).toBe(1);
    expect(h.onData(Buffer.from('b'))).toBe(true);
    h.onComplete(null);
    expect(res.chunks.map(String)).toEqual(['a', 'b']);
    expect(res.ended).toBe(true);
  });

  it('aborts the upstream when the client leaves, before or during the response', async () => {
    const { pool, handlers } = fakePool();
    const res = new FakeResponse();
    const pending = run(pool, req(), res);
    const c = new FakeConnection();
    handlers[0]!.onConnect(c.abort);
    res.destroy();
    expect(await pending).toEqual({ kind: 'client-gone' });
    expect(c.aborted).toBe(true);

    const res2 = new FakeResponse();
    const pending2 = run(pool, req(), res2);
    const c2 = new FakeConnection();
    handlers[1]!.onConnect(c2.abort);
    handlers[1]!.onHeaders(200, [], c2.resume, 'OK');
    await pending2;
    res2.destroy();
    expect(c2.aborted).toBe(true);
  });
});
