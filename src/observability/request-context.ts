/**
 * Per HTTP request on the control plane: a request id, the server span (its parent taken from
 * an incoming `traceparent`), the instance's observer in the active context, and one JSON access
 * log line when the response is done.
 *
 * The access line names method, path (never the query string: it may carry a token), status,
 * duration, user and request id. Tokens and passwords travel in headers and bodies, which are
 * never logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { context, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Observer } from './observer.js';
import { withObserver } from './observer.js';
import { endSpan, extractTraceContext, SpanKind } from './tracing.js';

const requests = new WeakMap<IncomingMessage, { ctx: Context; user: string | null }>();

/** Paths named as themselves in span names; anything else is "other" (bounded names). */
const KNOWN_PATHS = new Set(['/graphql', '/archive/import', '/archive/export', '/healthz', '/readyz', '/metrics', '/']);

/** A client-chosen request id is kept when it looks like one; otherwise we make one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const MAX_LOGGED_PATH = 256;

/** Records who the request was authenticated as, for its access log line. */
export function noteRequestUser(req: IncomingMessage, username: string | null | undefined): void {
  const entry = requests.get(req);
  if (entry && username) entry.user = username;
}

/** The first middleware: request id, span, observer context and the access log line. */
export function observeRequests(observer: Observer, log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    const path = req.path.length > MAX_LOGGED_PATH ? `${req.path.slice(0, MAX_LOGGED_PATH)}…` : req.path;

    let ctx = withObserver(extractTraceContext(req.headers, ROOT_CONTEXT), observer);
    const span = observer.tracer?.startSpan(`${req.method} ${KNOWN_PATHS.has(req.path) ? req.path : 'other'}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': path, 'stagecraft.request_id': requestId },
    }, ctx);
    if (span) ctx = trace.setSpan(ctx, span);
    const entry = { ctx, user: null as string | null };
    requests.set(req, entry);

    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      log.info({ access: true, method: req.method, path, status, durationMs, user: entry.user, requestId }, 'http request');
      if (span) endSpan(span, status >= 500 ? `HTTP ${status}` : 'ok', { 'http.response.status_code': status, ...(entry.user ? { 'enduser.id': entry.user } : {}) });
    };
    res.once('finish', finish);
    res.once('close', finish);
    context.with(ctx, next);
  };
}

/**
 * Re-enters the request's context: body parsers call `next` from stream callbacks, which do not
 * carry it. Placed after them.
 */
export const reenterRequestContext: RequestHandler = (req, _res, next) => {
  const entry = requests.get(req);
  if (!entry) return next();
  context.with(entry.ctx, next);
};
