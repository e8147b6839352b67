/**
 * Header rewriting between client and upstream. Hop-by-hop headers (RFC 9110 §7.6.1) describe
 * one connection, not the message, so they are dropped in both directions, together with any
 * header the Connection header names. The client's Host goes to the upstream unchanged (as
 * APISIX's default `pass_host: pass`), so name-based upstreams see the public host.
 */
import type { IncomingMessage } from 'node:http';

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
 * Reads the request head from `rawHeaders` in one pass and never touches `req.headers`, whose
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
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === HOST) host ??= value;
    else if (lower === CONTENT_LENGTH) contentLength ??= value;
    else if (lower === X_FORWARDED_FOR) forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
    else if (lower === TRANSFER_ENCODING) chunked = true;
    else if (lower === CONNECTION && !namesNoHeader(value)) drop = addConnectionTokens(drop ?? new Set(), value);
    if (HOP_BY_HOP.has(lower) || FORWARDED.has(lower)) continue;
    out.push(name, value);
  }
  const upstreamHeaders = drop ? withoutNamed(out, drop) : out;
  const client = req.socket.remoteAddress;
  if (client) forwardedFor = forwardedFor === null ? client : `${forwardedFor}, ${client}`;
  if (forwardedFor !== null) upstreamHeaders.push(X_FORWARDED_FOR, forwardedFor);
  if (host) upstreamHeaders.push('x-forwarded-host', host);
  upstreamHeaders.push('x-forwarded-proto', proto);
  return { host, contentLength, chunked, upstreamHeaders };
}

/**
 * The upstream's response headers (undici's raw list: name, value, … as bytes) minus hop-by-hop
 * ones, as the flat `[name, value, …]` list `writeHead` takes: duplicates (Set-Cookie) and the
 * upstream's spelling survive, and Node frames the body itself.
 */
export function clientResponseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let drop: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === CONNECTION) {
        const value = raw[i + 1]!.toString('latin1');
        if (!namesNoHeader(value)) drop = addConnectionTokens(drop ?? new Set(), value);
      }
      continue;
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return drop ? withoutNamed(out, drop) : out;
}

/** `headers` (a flat list) without the names in `drop` (lower-cased). */
function withoutNamed(headers: string[], drop: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!drop.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  return out;
}
