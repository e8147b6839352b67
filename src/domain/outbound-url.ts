/**
 * Where this server may send requests on a user's say-so (stages, service registries, upstream
 * nodes): the one rule, pure, used when an address is saved and again when a connection is made.
 *
 * - http and https only, a port 1–65535, no credentials in the URL (no path for stages).
 * - Never link-local (169.254.0.0/16, fe80::/10), cloud metadata endpoints (169.254.169.254,
 *   fd00:ec2::254, 100.100.100.200, metadata.google.internal …), unspecified (0.0.0.0, ::),
 *   multicast or broadcast addresses — unless the operator allows the host or a CIDR with
 *   STAGECRAFT_ALLOWED_HOSTS. These are the addresses a request forgery aims at: instance
 *   credentials live behind them, and no stage, registry or upstream legitimately does.
 * - Loopback and private ranges stay allowed: stages, registries and upstreams routinely live
 *   on the same machine (development, tests) or an internal network.
 *
 * Host names are checked twice: by name here, and by every address they resolve to when the
 * connection is made (see services/outbound.ts), so a name cannot rebind to a refused address.
 */
import { BlockList, isIP } from 'node:net';

export interface AllowList {
  /** Lower-case host names allowed despite the rule. */
  readonly names: ReadonlySet<string>;
  /** Addresses and CIDRs allowed despite the rule. */
  readonly addresses: BlockList;
  /** The entries as given, for messages. */
  readonly entries: readonly string[];
}

export const emptyAllowList = (): AllowList => ({ names: new Set(), addresses: new BlockList(), entries: [] });

export class AllowListError extends Error {}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/i;

/** Parses `STAGECRAFT_ALLOWED_HOSTS`: comma-separated host names, IP addresses or CIDRs. */
export function parseAllowList(text: string): AllowList {
  const names = new Set<string>();
  const addresses = new BlockList();
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    const ip = stripBrackets(cidr ? cidr[1]! : entry);
    const family = isIP(ip);
    if (family) {
      const bits = cidr ? Number(cidr[2]) : family === 4 ? 32 : 128;
      if (bits > (family === 4 ? 32 : 128)) throw new AllowListError(`"${entry}" has a prefix longer than the address`);
      addresses.addSubnet(ip, bits, family === 4 ? 'ipv4' : 'ipv6');
    } else if (!cidr && HOST_NAME.test(entry)) {
      names.add(entry.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new AllowListError(`"${entry}" is not a host name, an IP address or a CIDR`);
    }
  }
  return { names, addresses, entries };
}

const stripBrackets = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** Named metadata endpoints (their addresses are refused anyway; the names fail earlier and clearer). */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

const range = (reason: string, subnets: [string, number, 'ipv4' | 'ipv6'][], addresses: [string, 'ipv4' | 'ipv6'][] = []) => {
  const list = new BlockList();
  for (const [net, bits, family] of subnets) list.addSubnet(net, bits, family);
  for (const [address, family] of addresses) list.addAddress(address, family);
  return { reason, list };
};

const UNSPECIFIED = range('an unspecified address', [['0.0.0.0', 8, 'ipv4']], [['::', 'ipv6']]);

const refusedRanges: readonly { reason: string; list: BlockList }[] = [
    // Checked first: a metadata address is also link-local, and "metadata" says more.
    range('a cloud metadata address', [], [
      ['169.254.169.254', 'ipv4'],
      ['169.254.170.2', 'ipv4'],
      ['100.100.100.200', 'ipv4'],
      ['192.0.0.192', 'ipv4'],
      ['fd00:ec2::254', 'ipv6'],
    ]),
    range('a link-local address', [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
    UNSPECIFIED,
    range('a multicast or broadcast address', [
      ['224.0.0.0', 4, 'ipv4'],
      ['255.255.255.255', 32, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ]),
];

const familyOf = (ip: string): 'ipv4' | 'ipv6' => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** Why a resolved address may not be contacted, or null when it may. */
export function refusedAddress(address: string, allow: AllowList): string | null {
  const ip = stripBrackets(address);
  if (!isIP(ip)) return 'not an IP address';
  if (allow.addresses.check(ip, familyOf(ip))) return null;
  for (const { reason, list } of refusedRanges) if (list.check(ip, familyOf(ip))) return reason;
  return null;
}

/** Why a host (name or IP literal, as the URL parser normalised it) may not be contacted, or null. */
export function refusedHost(host: string, allow: AllowList): string | null {
  const bare = stripBrackets(host).toLowerCase().replace(/\.$/, '');
  if (isIP(bare)) return refusedAddress(bare, allow);
  if (allow.names.has(bare)) return null;
  if (METADATA_NAMES.has(bare)) return 'a cloud metadata host';
  return null;
}

/** A host name allowed by name resolves to whatever its operator says: its addresses are not checked. */
export const allowedByName = (host: string, allow: AllowList): boolean => allow.names.has(stripBrackets(host).toLowerCase().replace(/\.$/, ''));

export interface OutboundTarget {
  /** `http(s)://host[:port]`, normalised. */
  origin: string;
  protocol: 'http:' | 'https:';
  /** As the URL parser normalised it (IPv6 in brackets, IPv4 in dotted form). */
  host: string;
  port: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_URL_LENGTH = 500;

/**
 * An http(s) URL this server may call. `pathAllowed`: registries have paths; stages are a bare
 * origin. The reason never repeats the input (it may be huge or hostile).
 */
export function checkOutboundUrl(text: string, allow: AllowList, options: { pathAllowed?: boolean } = {}): Checked<OutboundTarget & { href: string }> {
  if (text.length > MAX_URL_LENGTH) return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(text)) return { ok: false, reason: 'must not contain spaces or control characters' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'must look like http(s)://host:port' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must be an http or https URL' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  if (!url.hostname) return { ok: false, reason: 'needs a host' };
  if (!options.pathAllowed && ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)) {
    return { ok: false, reason: 'must be http(s)://host:port, without a path' };
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (port < 1 || port > 65535) return { ok: false, reason: 'port must be between 1 and 65535' };
  const refusal = refusedHost(url.hostname, allow);
  if (refusal) return { ok: false, reason: `${refusal} is not allowed (an operator may allow it with STAGECRAFT_ALLOWED_HOSTS)` };
  return { ok: true, value: { origin: url.origin, href: url.href, protocol: url.protocol, host: url.hostname, port } };
}

/** A host and port (an upstream node, a DNS resolver) this server or its gateways may contact. */
export function checkOutboundHostPort(host: string, port: number, allow: AllowList): Checked<{ host: string; port: number }> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: 'port must be between 1 and 65535' };
  if (!host || host.length > 253 || /[\s/@?#\\]/.test(host)) return { ok: false, reason: 'must be a host name or an IP address' };
  let url: URL;
  try {
    url = new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}`);
  } catch {
    return { ok: false, reason: 'must be a host name or an IP address' };
  }
  const refusal = refusedHost(url.hostname, allow);
  if (refusal) return { ok: false, reason: `${refusal} is not allowed (an operator may allow it with STAGECRAFT_ALLOWED_HOSTS)` };
  return { ok: true, value: { host: url.hostname, port } };
}

/** This control plane's own listening address: the hosts that reach it and its port. */
export interface SelfAddress {
  port: number;
  /** Host names and addresses this process answers on (its listen host, loopback, its host name). */
  hosts: readonly string[];
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True when host:port is this control plane itself: a gateway proxying to it would hand the
 * public data plane the management API (and loop through it).
 */
export function isSelf(host: string, port: number, self: SelfAddress | null): boolean {
  if (!self || port !== self.port) return false;
  const bare = stripBrackets(host).toLowerCase().replace(/\.$/, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) && (LOOPBACK.check(bare, familyOf(bare)) || UNSPECIFIED.list.check(bare, familyOf(bare)))) return true;
  return self.hosts.some((h) => stripBrackets(h).toLowerCase() === bare);
}
