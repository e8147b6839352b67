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

/** Adds the lower-cased names a Connection header value lists (`close, X-Foo`) to `into`. */
function addConnectionTokens(into: Set<string>, value: string): Set<string> {
  for (const t of value.split(',')) if (t.trim()) into.add(t.trim().toLowerCase());
  return into;
}

/** `keep-alive` or `close` alone, the usual value: names no other header, so nothing to drop. */
const namesNoHeader = (value: string) => value.length <= 10 && /^(?:keep-alive|close)$/i.test(value);

/** Lower-cased names listed in Connection headers (`Connection: close, X-Foo`). */
function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : []) addConnectionTokens(tokens, v);
  return tokens;
}

/** What the proxy needs from a client's request head. */
export interface RequestHead {
  /** The Host header (the first one), or null. */
  host: string | null;
  /** Content-Length as sent (the first one), or null. */
  contentLength: string | null;
  /** Whether a Transfer-Encoding header was sent (the body is chunked). */
  chunked: boolean;
  /**
   * The headers to send upstream, as a flat `[name, value, …]` list so duplicates and the
   * client's spelling survive. `X-Forwarded-For` gets the client address appended; `-Host` and
   * `-Proto` are set to what this gateway received.
   */
  upstreamHeaders: string[];
}

const CONNECTION = 'connection';
const HOST = 'host';
const CONTENT_LENGTH = 'content-length';
const TRANSFER_ENCODING = 'transfer-encoding';
const X_FORWARDED_FOR = 'x-forwarded-for';

/**
 * Reads the request head from `rawHeaders` in two passes and never touches `req.headers`, whose
 * first use makes Node build a second, lower-cased copy of every header: per request, that copy
 * was a measurable share of the proxy's own CPU.
 */
export function readRequestHead(req: IncomingMessage, proto: 'http' | 'https'): RequestHead {
  const raw = req.rawHeaders;
  let drop: Set<string> | null = null;
  let host: string | null = null;
  let contentLength: string | null = null;
  let chunked = false;
  let forwardedFor: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (lower === CONNECTION) drop = namesNoHeader(value) ? drop : addConnectionTokens(drop ?? new Set(), value);
    else if (lower === HOST) host ??= value;
    else if (lower === CONTENT_LENGTH) contentLength ??= value;
    else if (lower === TRANSFER_ENCODING) chunked = true;
    else if (lower === X_FORWARDED_FOR) forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || FORWARDED.has(lower) || drop?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  const client = req.socket.remoteAddress;
  if (client) forwardedFor = forwardedFor === null ? client : `${forwardedFor}, ${client}`;
  if (forwardedFor !== null) out.push(X_FORWARDED_FOR, forwardedFor);
  if (host) out.push('x-forwarded-host', host);
  out.push('x-forwarded-proto', proto);
  return { host, contentLength, chunked, upstreamHeaders: out };
}

/** The upstream's response headers minus hop-by-hop ones; Node frames the body itself. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  const drop = connection === undefined || (typeof connection === 'string' && namesNoHeader(connection)) ? null : connectionTokens(connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || drop?.has(name)) continue;
    out[name] = value;
  }
  return out;
}
