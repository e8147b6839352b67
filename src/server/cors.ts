/**
 * Cross-origin access for browser pages served elsewhere (a portal on its own origin): an exact
 * allowlist (config `corsOrigins`), applied to /graphql, the archive endpoints and WebSocket
 * upgrades. Browsers enforce CORS for fetch; they do not for WebSockets, so the upgrade checks
 * the Origin header itself. Clients that are not browsers send no Origin and are not affected.
 */
import type { IncomingMessage } from 'node:http';
import type express from 'express';

/** What a GraphQL or archive client sends across origins: JSON, a token, Apollo's CSRF and tracing headers. */
const ALLOWED_HEADERS = ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name', 'apollo-client-name', 'apollo-client-version', 'x-stagecraft-promotion'];
/** Response headers a page may read besides the CORS-safelisted ones (archive file name and count, back-off). */
const EXPOSED_HEADERS = ['content-disposition', 'x-asset-count', 'retry-after'];
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface CorsPolicy {
  origins: readonly string[];
  credentials: boolean;
}

/** Is this request's Origin the page the server itself serves (GraphiQL)? Same host, any scheme (TLS may end at a proxy). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Answers preflights and marks allowed origins' responses. A preflight from an origin not on the
 * list is answered 403 without CORS headers (the browser then refuses the request); any other
 * request is left to run, without CORS headers, so the browser keeps the answer from the page.
 */
export function corsMiddleware(policy: CorsPolicy): express.RequestHandler {
  const allowed = new Set(policy.origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    const permitted = typeof origin === 'string' && allowed.has(origin);
    if (permitted) {
      res.set('Access-Control-Allow-Origin', origin);
      if (policy.credentials) res.set('Access-Control-Allow-Credentials', 'true');
      res.set('Access-Control-Expose-Headers', EXPOSED_HEADERS.join(', '));
    }
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return next();
    if (!permitted) {
      res.status(403).json({ error: { code: 'FORBIDDEN', message: 'this origin may not call the API: add it to --cors-origin / STAGECRAFT_CORS_ORIGINS' } });
      return;
    }
    res.set({
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
      'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
    });
    res.status(204).end();
  };
}

/**
 * May this WebSocket upgrade proceed? No Origin (not a browser), an allowed origin, or the
 * server's own pages (GraphiQL). A browser page of any other site is refused, so it cannot open
 * a socket in its visitor's name (cross-site WebSocket hijacking).
 */
export function upgradeOriginAllowed(policy: CorsPolicy, request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return policy.origins.includes(origin) || sameOrigin(origin, request.headers.host);
}
