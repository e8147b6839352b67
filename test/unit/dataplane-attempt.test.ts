/**
 * How one upstream attempt classifies failures, driven through a fake dispatcher so the cases a
 * local socket cannot produce on demand (a connect that hangs) are covered too.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { attempt, type AttemptRequest } from '../../src/dataplane/attempt.js';

class FakeResponse extends EventEmitter {
  destroyed = false;
  writableFinished = false;
  status = 0;
  chunks: Buffer[] = [];
  ended = false;
  writeHead(status: number) {
    this.status = status;
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

class FakeController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  abort(reason: Error) {
    this.aborted = true;
    this.reason = reason;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

/** A dispatcher that hands the handler to the test instead of doing I/O. */
function fakePool() {
  const handlers: Dispatcher.DispatchHandler[] = [];
  const pool = { dispatch: (_opts: unknown, handler: Dispatcher.DispatchHandler) => (handlers.push(handler), true) } as unknown as Pool;
  return { pool, handlers };
}

const req = (timeoutMs = 50): AttemptRequest => ({ method: 'GET', path: '/x', headers: [], body: null, timeoutMs });
const error = (code: string) => Object.assign(new Error(code), { code });

describe('upstream attempt', () => {
  it('calls a hung connect a connect timeout, and drops the connection if it opens later', async () => {
    const { pool, handlers } = fakePool();
    const outcome = await attempt(pool, req(30), new FakeResponse() as unknown as ServerResponse);
    expect(outcome).toMatchObject({ kind: 'failed', failure: 'connect-timeout' });
    const late = new FakeController();
    handlers[0]!.onRequestStart!(late, {});
    expect(late.aborted).toBe(true);
  });

  it('calls an error before the connection a connect failure', async () => {
    const { pool, handlers } = fakePool();
    const pending = attempt(pool, req(), new FakeResponse() as unknown as ServerResponse);
    handlers[0]!.onResponseError!(new FakeController(), error('ECONNREFUSED'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'connect' });
  });

  it('calls a broken connection before any response a reset', async () => {
    const { pool, handlers } = fakePool();
    const pending = attempt(pool, req(), new FakeResponse() as unknown as ServerResponse);
    const c = new FakeController();
    handlers[0]!.onRequestStart!(c, {});
    handlers[0]!.onResponseError!(c, error('UND_ERR_SOCKET'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'reset' });
  });

  it('calls missing response headers after connecting a timeout and aborts the request', async () => {
    const { pool, handlers } = fakePool();
    const pending = attempt(pool, req(30), new FakeResponse() as unknown as ServerResponse);
    const c = new FakeController();
    handlers[0]!.onRequestStart!(c, {});
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'timeout' });
    expect(c.aborted).toBe(true);
  });

  it('calls a request undici refuses invalid', async () => {
    const { pool, handlers } = fakePool();
    const pending = attempt(pool, req(), new FakeResponse() as unknown as ServerResponse);
    handlers[0]!.onResponseError!(new FakeController(), error('UND_ERR_INVALID_ARG'));
    expect(await pending).toMatchObject({ kind: 'failed', failure: 'invalid' });
  });

  it('streams a response with backpressure and ignores 1xx', async () => {
    const { pool, handlers } = fakePool();
    const res = new FakeResponse();
    let full = true;
    res.write = (chunk: Buffer) => (res.chunks.push(chunk), !full);
    const pending = attempt(pool, req(), res as unknown as ServerResponse);
    const c = new FakeController();
    const h = handlers[0]!;
    h.onRequestStart!(c, {});
    h.onResponseStart!(c, 103, {}, 'Early Hints');
    expect(res.status).toBe(0);
    h.onResponseStart!(c, 200, { 'content-type': 'text/plain', connection: 'close' }, 'OK');
    expect(await pending).toEqual({ kind: 'response', status: 200 });
    h.onResponseData!(c, Buffer.from('a'));
    expect(c.paused).toBe(true);
    full = false;
    res.emit('drain');
    expect(c.paused).toBe(false);
    h.onResponseEnd!(c, {});
    expect(res.ended).toBe(true);
  });

  it('aborts the upstream when the client leaves, before or during the response', async () => {
    const { pool, handlers } = fakePool();
    const res = new FakeResponse();
    const pending = attempt(pool, req(), res as unknown as ServerResponse);
    const c = new FakeController();
    handlers[0]!.onRequestStart!(c, {});
    res.destroy();
    expect(await pending).toEqual({ kind: 'client-gone' });
    expect(c.aborted).toBe(true);

    const res2 = new FakeResponse();
    const pending2 = attempt(pool, req(), res2 as unknown as ServerResponse);
    const c2 = new FakeController();
    handlers[1]!.onRequestStart!(c2, {});
    handlers[1]!.onResponseStart!(c2, 200, {}, 'OK');
    await pending2;
    res2.destroy();
    expect(c2.aborted).toBe(true);
  });
});
