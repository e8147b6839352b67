/**
 * The gateway's own answers, always JSON `{ "error": { "code", "message" } }`, so clients can
 * tell a gateway refusal from an upstream's response. Messages name the service but never a
 * node address: those are internal.
 */
import type { ServerResponse } from 'node:http';

export type GatewayErrorCode =
  /** 404: no route matches method, path and host. */
  | 'ROUTE_NOT_FOUND'
  /** 502: the service has no node that may take traffic (none configured or discovered, or all ejected). */
  | 'NO_HEALTHY_UPSTREAM'
  /** 502: nodes were tried and none gave a response (refused, reset, broken response). */
  | 'UPSTREAM_UNAVAILABLE'
  /** 504: no connection or no response headers within the upstream's timeoutMs. */
  | 'UPSTREAM_TIMEOUT'
  /** 400: a request the gateway will not forward (path with dot segments, not origin-form). */
  | 'BAD_REQUEST'
  /** 503: no config received yet. */
  | 'NOT_CONFIGURED'
  /** 503: the control plane deleted this instance's gateway group; it serves nothing any more. */
  | 'GROUP_DELETED'
  /** 500: a bug; the log has the details. */
  | 'INTERNAL_ERROR';

export const statusFor: Record<GatewayErrorCode, number> = {
  ROUTE_NOT_FOUND: 404,
  NO_HEALTHY_UPSTREAM: 502,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  BAD_REQUEST: 400,
  NOT_CONFIGURED: 503,
  GROUP_DELETED: 503,
  INTERNAL_ERROR: 500,
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

export function sendError(res: ServerResponse, code: GatewayErrorCode, message: string): void {
  if (res.headersSent) {
    res.destroy(); // too late for a clean error: cut the connection so the client notices
    return;
  }
  sendJson(res, statusFor[code], { error: { code, message } });
}
