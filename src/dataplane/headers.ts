/**
 * Header rewriting between client and upstream. Hop-by-hop headers (RFC 9110 §7.6.1) describe
 * one connection, not the message, so they are dropped in both directions, together with any
 * header the Connection header names. The client's Host goes to the upstream unchanged (as
 * APISIX's default `pass_host: pass`), so name-based upstreams see the public host.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Not hop-by-hop by the RFC, but the 100-continue handshake was already done with the client
  // (Node answers it), and undici refuses to send the header anyway.
  'expect',
]);

/** Headers we set ourselves rather than pass on. */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);

/** Lower-cased names listed in Connection headers (`Connection: close, X-Foo`). */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : []) {
    for (const t of v.split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}

/**
 * The headers to send upstream, as a flat `[name, value, …]` list so duplicates and the
 * client's spelling survive. `X-Forwarded-For` gets the client address appended; `-Host` and
 * `-Proto` are set to what this gateway received.
 */
export function upstreamRequestHeaders(req: IncomingMessage, proto: 'http' | 'https'): string[] {
  const drop = connectionTokens(req.headers.connection);
  const out: string[] = [];
  const raw = req.rawHeaders;
  const forwardedFor: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') forwardedFor.push(raw[i + 1]!);
    if (HOP_BY_HOP.has(lower) || FORWARDED.has(lower) || drop.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  const client = req.socket.remoteAddress;
  if (client) forwardedFor.push(client);
  if (forwardedFor.length) out.push('x-forwarded-for', forwardedFor.join(', '));
  if (req.headers.host) out.push('x-forwarded-host', req.headers.host);
  out.push('x-forwarded-proto', proto);
  return out;
}

/** The upstream's response headers minus hop-by-hop ones; Node frames the body itself. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const drop = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}
