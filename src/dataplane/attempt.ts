/**
 * One attempt to get a response from one upstream node, streaming it to the client.
 *
 * It uses undici's low-level `dispatch` rather than `request()` because the retry decision needs
 * to know how far the attempt got, which only the handler callbacks tell:
 *  - `onRequestStart` runs once undici holds a connected socket and is about to write the
 *    request. Anything failing before it is a connect failure: the node never saw the request,
 *    so another node may get it (whatever the method), and the body has not been read.
 *  - `onResponseStart` means the node answered; from then on the response is the client's and
 *    the attempt can no longer fail over.
 * The upstream's `timeoutMs` covers connect plus response headers with one timer: firing before
 * `onRequestStart` is a connect timeout (retryable), after it a response timeout (504, not
 * retried: the node may be working on the request).
 *
 * Response bodies are piped with backpressure: when the client socket is full, the upstream
 * read is paused until it drains.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
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

const INVALID_REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

export function attempt(pool: Pool, request: AttemptRequest, res: ServerResponse): Promise<AttemptOutcome> {
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    /** The attempt was given up (timeout, client gone) before undici connected. */
    let abandoned = false;
    let controller: Dispatcher.DispatchController | null = null;
    let responding = false;

    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A response keeps the listener: the upstream is still aborted if the client leaves mid-body.
      if (!responding) res.off('close', onClientClose);
      resolve(outcome);
    };

    // Settle before aborting: the abort calls onResponseError, which must not classify it.
    const onClientClose = () => {
      if (res.writableFinished) return;
      if (settled) {
        // Only reachable while responding (see settle): stop reading the rest of the body.
        controller?.abort(new Error('client closed the connection'));
        return;
      }
      settle({ kind: 'client-gone' });
      if (controller) controller.abort(new Error('client closed the connection'));
      else abandoned = true;
    };
    res.on('close', onClientClose);

    const timer = setTimeout(() => {
      if (controller) {
        const error = new Error(`upstream sent no response headers within ${request.timeoutMs} ms`);
        settle({ kind: 'failed', failure: 'timeout', error });
        controller.abort(error);
      } else {
        abandoned = true; // undici may still connect later; onRequestStart then drops it
        settle({ kind: 'failed', failure: 'connect-timeout', error: new Error(`upstream connection not open within ${request.timeoutMs} ms`) });
      }
    }, request.timeoutMs);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        if (abandoned) {
          ctrl.abort(new Error('attempt abandoned'));
          return;
        }
        controller = ctrl;
      },

      onResponseStart(ctrl, statusCode, headers: IncomingHttpHeaders, statusMessage) {
        if (statusCode < 200) return; // 1xx informational: not forwarded, the final response follows
        if (settled) return ctrl.abort(new Error('attempt already settled'));
        try {
          res.writeHead(statusCode, statusMessage || undefined, clientResponseHeaders(headers));
        } catch (err) {
          // Node refused a header value the upstream sent; the node answered, so no retry.
          settle({ kind: 'failed', failure: 'bad-response', error: err as Error });
          return ctrl.abort(err as Error);
        }
        responding = true;
        settle({ kind: 'response', status: statusCode });
      },

      onResponseData(ctrl, chunk) {
        if (!responding || res.destroyed) return;
        if (!res.write(chunk)) {
          ctrl.pause();
          res.once('drain', () => ctrl.resume());
        }
      },

      onResponseEnd() {
        if (responding) res.end();
      },

      onResponseError(_ctrl, error: Error) {
        if (responding) {
          // The body broke after the status line went out: all we can do is cut the client
          // connection, so the client sees an incomplete response rather than a short one.
          res.off('close', onClientClose);
          res.destroy();
          return;
        }
        if (settled) return; // a timeout or the client got there first
        // The client broke off (its upload failed us mid-stream): not the node's fault.
        if (res.destroyed) return settle({ kind: 'client-gone' });
        const code = (error as { code?: string }).code ?? '';
        const failure: FailureKind = INVALID_REQUEST_CODES.has(code) ? 'invalid' : controller ? 'reset' : 'connect';
        settle({ kind: 'failed', failure, error });
      },
    };

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
  });
}
