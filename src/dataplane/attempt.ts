/**
 * One attempt to get a response from one upstream node, streaming it to the client.
 *
 * It uses undici's low-level `dispatch` rather than `request()` because the retry decision needs
 * to know how far the attempt got, which only the handler callbacks tell:
 *  - `onConnect` runs once undici holds a connected socket and is about to write the request.
 *    Anything failing before it is a connect failure: the node never saw the request, so
 *    another node may get it (whatever the method), and the body has not been read.
 *  - `onHeaders` with a final status means the node answered; from then on the response is the
 *    client's and the attempt can no longer fail over.
 * The upstream's `timeoutMs` covers connect plus response headers with one timer: firing before
 * `onConnect` is a connect timeout (retryable), after it a response timeout (504, not retried:
 * the node may be working on the request).
 *
 * The handler is undici's raw one (`onConnect`/`onHeaders`/`onData`/`onComplete`/`onError`), one
 * object per attempt: undici passes it the response head as the raw header list, which goes to
 * the client as a list too, so no header object is built on either side (the newer
 * `onRequestStart` API costs a wrapper, a controller and a parsed header object per request).
 *
 * Response bodies are piped with backpressure: when the client socket is full, the upstream
 * read is paused until it drains.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders } from './headers.js';

export type FailureKind =
  /** No connection: refused, unreachable, DNS, reset during connect. Nothing was sent. */
  | 'connect'
  /** The connection did not open within timeoutMs. Nothing was sent. */
  | 'connect-timeout'
  /** The connection broke after the request started and before any response. */
  | 'reset'
  /** Connected, but no response headers within timeoutMs. */
  | 'timeout'
  /** undici refused the request itself (a header it will not send): not the node's fault. */
  | 'invalid'
  /** The node answered with a response Node cannot pass on (a malformed header value). */
  | 'bad-response';

export type AttemptOutcome =
  /** The response has started streaming to the client (the client owns it now). */
  | { kind: 'response'; status: number }
  /** The client went away; nothing more to do. */
  | { kind: 'client-gone' }
  | { kind: 'failed'; failure: FailureKind; error: Error };

export interface AttemptRequest {
  method: string;
  /** Path and query, exactly as the client sent them. */
  path: string;
  headers: string[];
  body: Buffer | AsyncIterable<Buffer> | null;
  timeoutMs: number;
}

/** undici's raw dispatch handler: what `dispatch` calls for a handler without `onRequestStart`. */
export type RawHandler = Required<Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>>;

const INVALID_REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** Starts one attempt; `done` is called once, with how far it got. */
export function attempt(pool: Pick<Dispatcher, 'dispatch'>, request: AttemptRequest, res: ServerResponse, done: (outcome: AttemptOutcome) => void): void {
  const handler = new Attempt(res, request.timeoutMs, done);
  pool.dispatch(
    {
      method: request.method as Dispatcher.HttpMethod,
      path: request.path,
      headers: request.headers,
      // undici accepts async iterables at runtime; its typings list only Readable.
      body: request.body as Buffer | null,
      // Our own timer enforces timeoutMs on connect + headers; the body may then take its
      // time, as long as it keeps moving (undici's bodyTimeout: 5 minutes between chunks).
      headersTimeout: 0,
    },
    handler,
  );
}

const CLIENT_GONE: AttemptOutcome = { kind: 'client-gone' };

class Attempt implements RawHandler {
  private settled = false;
  /** The attempt was given up (timeout, client gone) before undici connected. */
  private abandoned = false;
  private abort: ((err?: Error) => void) | null = null;
  private responding = false;
  private resume: (() => void) | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly clientClosed = () => this.onClientClose();

  constructor(
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly done: (outcome: AttemptOutcome) => void,
  ) {
    res.on('close', this.clientClosed);
    this.timer = setTimeout(onTimeout, timeoutMs, this);
  }

  private settle(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // A response keeps the listener: the upstream is still aborted if the client leaves mid-body.
    if (!this.responding) this.res.off('close', this.clientClosed);
    this.done(outcome);
  }

  // Settle before aborting: the abort calls onError, which must not classify it.
  private onClientClose(): void {
    if (this.res.writableFinished) return;
    if (this.settled) {
      // Only reachable while responding (see settle): stop reading the rest of the body.
      this.abort?.(new Error('client closed the connection'));
      return;
    }
    this.settle(CLIENT_GONE);
    if (this.abort) this.abort(new Error('client closed the connection'));
    else this.abandoned = true;
  }

  timedOut(): void {
    if (this.abort) {
      const error = new Error(`upstream sent no response headers within ${this.timeoutMs} ms`);
      this.settle({ kind: 'failed', failure: 'timeout', error });
      this.abort(error);
    } else {
      this.abandoned = true; // undici may still connect later; onConnect then drops it
      this.settle({ kind: 'failed', failure: 'connect-timeout', error: new Error(`upstream connection not open within ${this.timeoutMs} ms`) });
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.abandoned) return abort(new Error('attempt abandoned'));
    this.abort = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: not forwarded, the final response follows
    if (this.settled) {
      this.abort?.(new Error('attempt already settled'));
      return true;
    }
    try {
      this.res.writeHead(statusCode, statusText || undefined, clientResponseHeaders(headers));
    } catch (err) {
      // Node refused a header value the upstream sent; the node answered, so no retry.
      this.settle({ kind: 'failed', failure: 'bad-response', error: err as Error });
      this.abort?.(err as Error);
      return true;
    }
    this.responding = true;
    this.resume = resume;
    this.settle(statusCode === 200 ? RESPONSE_200 : { kind: 'response', status: statusCode });
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.res;
    if (!this.responding || res.destroyed) return true;
    if (res.write(chunk)) return true;
    res.once('drain', this.resume!);
    return false; // undici stops reading the upstream until resume()
  }

  onComplete(): void {
    if (this.responding) this.res.end();
  }

  onError(error: Error): void {
    const res = this.res;
    if (this.responding) {
      // The body broke after the status line went out: all we can do is cut the client
      // connection, so the client sees an incomplete response rather than a short one.
      res.off('close', this.clientClosed);
      res.destroy();
      return;
    }
    if (this.settled) return; // a timeout or the client got there first
    // The client broke off (its upload failed us mid-stream): not the node's fault.
    if (res.destroyed) return this.settle(CLIENT_GONE);
    const code = (error as { code?: string }).code ?? '';
    const failure: FailureKind = INVALID_REQUEST_CODES.has(code) ? 'invalid' : this.abort ? 'reset' : 'connect';
    this.settle({ kind: 'failed', failure, error });
  }
}

/** The usual outcome, shared (outcomes are read, never changed). */
const RESPONSE_200: AttemptOutcome = Object.freeze({ kind: 'response', status: 200 });

function onTimeout(attempt: Attempt): void {
  attempt.timedOut();
}
