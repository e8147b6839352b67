/**
 * Who may read /metrics. One rule for the control plane and the gateway.
 *
 * - A token configured (STAGECRAFT_METRICS_TOKEN): `Authorization: Bearer <token>` is required,
 *   from anywhere.
 * - No token: loopback clients only (a Prometheus or curl on the same host), and not a request
 *   relayed by a proxy on that host (it carries Forwarded / X-Forwarded-For / X-Real-IP), since
 *   a proxy would make every outside client look local.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type MetricsAccess = 'allowed' | 'unauthenticated' | 'forbidden';

export interface MetricsRequest {
  remoteAddress: string | undefined;
  authorization: string | undefined;
  /** Whether the request carries a header naming an earlier client (it came through a proxy). */
  forwarded: boolean;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export function isLoopback(address: string | undefined): boolean {
  return !!address && LOOPBACK.test(address);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export function metricsAccess(token: string | undefined, request: MetricsRequest): MetricsAccess {
  if (token) {
    const match = /^Bearer +(\S+) *$/i.exec(request.authorization ?? '');
    // Compared as digests: equal length, and the time taken says nothing about the token.
    return match && timingSafeEqual(digest(match[1]!), digest(token)) ? 'allowed' : 'unauthenticated';
  }
  return isLoopback(request.remoteAddress) && !request.forwarded ? 'allowed' : 'forbidden';
}

/** The headers a proxy adds to name the client it relays for. */
export const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** The answer for a refusal: status, extra headers and the JSON error body. */
export function metricsRefusal(access: Exclude<MetricsAccess, 'allowed'>): { status: number; headers: Record<string, string>; body: { error: { code: string; message: string } } } {
  return access === 'unauthenticated'
    ? { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"' }, body: { error: { code: 'UNAUTHENTICATED', message: 'metrics need Authorization: Bearer <STAGECRAFT_METRICS_TOKEN>' } } }
    : { status: 403, headers: {}, body: { error: { code: 'FORBIDDEN', message: 'metrics are served to loopback clients only unless STAGECRAFT_METRICS_TOKEN is set' } } };
}
