/**
 * The gateway's route table: compiled once per config snapshot, then matched per request.
 * Pure (no I/O), so it is unit-tested on its own.
 *
 * Precedence, most specific first:
 *  1. Host: routes that name the request's host win over routes without a host. The host acts
 *     like a virtual server (nginx `server_name`, APISIX host routes): only when none of its
 *     routes matches do the host-less routes get a turn.
 *  2. Path kind: exact (`/store/inventory`), then parameterised (`/pet/{petId}`, one whole
 *     segment per parameter; at the first segment where two patterns differ, a literal beats a
 *     parameter), then prefix (`/static/*`, longest prefix first).
 *  3. Method: a route listing the request's method beats a route accepting any method.
 *  4. Declaration order (services, then routes, then paths) breaks the remaining ties, so the
 *     outcome never depends on Map iteration or sort stability.
 *
 * Paths are matched on the raw (still percent-encoded) request path without the query string;
 * parameter values are returned decoded. `/static/*` matches `/static` itself and everything
 * under `/static/`; `/*` matches every path.
 */
import type { GatewayConfig, RouteConfig, ServiceConfig } from './config.js';

export interface RouteMatch {
  service: ServiceConfig;
  route: RouteConfig;
  /** The configured path pattern that matched. */
  pattern: string;
  /** Parameter values, decoded. */
  readonly params: Record<string, string>;
}

export interface CompiledRoutes {
  match(method: string, path: string, host: string | null): RouteMatch | null;
  /** Paths that could not be compiled and were skipped (for the log; the rest still works). */
  readonly problems: string[];
}

interface Entry {
  service: ServiceConfig;
  route: RouteConfig;
  pattern: string;
  /** Empty = any method. */
  methods: ReadonlySet<string>;
  order: number;
}

interface ParamEntry extends Entry {
  /** Literal segment text, or null for a parameter (its name is in `names`). */
  segments: (string | null)[];
  names: string[];
}

interface PrefixEntry extends Entry {
  /** Always ends with `/` unless it is the bare `/`, e.g. `/static/`. */
  prefix: string;
}

/** The routes of one host (or of no host). */
class HostTable {
  readonly exact = new Map<string, Entry[]>();
  readonly params: ParamEntry[] = [];
  readonly prefixes: PrefixEntry[] = [];

  sort(): void {
    for (const list of this.exact.values()) list.sort(byMethodThenOrder);
    this.params.sort((a, b) => compareParamSpecificity(a, b) || byMethodThenOrder(a, b));
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length || byMethodThenOrder(a, b));
  }

  match(method: string, path: string): RouteMatch | null {
    const exact = firstAccepting(this.exact.get(path), method);
    if (exact) return result(exact);

    let segments: string[] | undefined;
    for (const entry of this.params) {
      if (!accepts(entry, method)) continue;
      segments ??= path.split('/');
      if (matchesSegments(entry, segments)) return new ParamMatch(entry, segments);
    }

    for (const entry of this.prefixes) {
      if (!accepts(entry, method)) continue;
      if (path.startsWith(entry.prefix) || path === entry.prefix.slice(0, -1)) return result(entry);
    }
    return null;
  }
}

export function compileRoutes(config: GatewayConfig): CompiledRoutes {
  const byHost = new Map<string, HostTable>();
  const anyHost = new HostTable();
  const problems: string[] = [];
  let order = 0;

  for (const service of config.services) {
    for (const route of service.routes) {
      const host = route.host ? normaliseHost(route.host) : null;
      let table = anyHost;
      if (host) {
        table = byHost.get(host) ?? new HostTable();
        byHost.set(host, table);
      }
      const methods = new Set(route.methods.map((m) => m.toUpperCase()));
      for (const pattern of route.paths) {
        const base = { service, route, pattern, methods, order: order++ };
        const problem = addPath(table, base, pattern);
        if (problem) problems.push(`service ${service.name} ${service.version} route ${route.id}: path ${JSON.stringify(pattern)} ${problem}`);
      }
    }
  }

  anyHost.sort();
  for (const table of byHost.values()) table.sort();

  return {
    problems,
    match(method, path, host) {
      const table = host && byHost.size ? byHost.get(normaliseHost(host)) : undefined;
      return table?.match(method, path) ?? anyHost.match(method, path);
    },
  };
}

/** Adds one path pattern to the table; returns why it was skipped, if it was. */
function addPath(table: HostTable, base: Entry, pattern: string): string | null {
  if (!pattern.startsWith('/')) return 'must start with /';
  if (pattern.includes('?') || pattern.includes('#')) return 'must not contain ? or #';

  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    if (prefix.includes('*') || prefix.includes('{')) return 'may only have * as its last character, without parameters';
    if (!prefix.endsWith('/')) return 'must end with /* to be a prefix';
    table.prefixes.push({ ...base, prefix });
    return null;
  }
  if (pattern.includes('*')) return 'may only have * as its last character';

  if (!pattern.includes('{') && !pattern.includes('}')) {
    const list = table.exact.get(pattern) ?? [];
    list.push(base);
    table.exact.set(pattern, list);
    return null;
  }

  const segments: (string | null)[] = [];
  const names: string[] = [];
  for (const segment of pattern.split('/')) {
    const param = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/.exec(segment);
    if (param) {
      if (names.includes(param[1]!)) return `repeats parameter ${param[1]}`;
      segments.push(null);
      names.push(param[1]!);
    } else if (segment.includes('{') || segment.includes('}')) {
      return 'must have each parameter as a whole segment, like /pet/{petId}';
    } else {
      segments.push(segment);
    }
  }
  table.params.push({ ...base, segments, names });
  return null;
}

function matchesSegments(entry: ParamEntry, segments: string[]): boolean {
  if (segments.length !== entry.segments.length) return false;
  for (let i = 0; i < segments.length; i++) {
    const expected = entry.segments[i];
    const actual = segments[i]!;
    if (expected === null) {
      if (actual === '') return false; // a parameter needs a non-empty segment
    } else if (expected !== actual) {
      return false;
    }
  }
  return true;
}

/** A match of a parameterised path; the values are decoded only if asked for (the proxy never does). */
class ParamMatch implements RouteMatch {
  readonly service: ServiceConfig;
  readonly route: RouteConfig;
  readonly pattern: string;
  private decoded: Record<string, string> | null = null;

  constructor(
    private readonly entry: ParamEntry,
    private readonly segments: string[],
  ) {
    this.service = entry.service;
    this.route = entry.route;
    this.pattern = entry.pattern;
  }

  get params(): Record<string, string> {
    if (!this.decoded) {
      const params: Record<string, string> = {};
      let n = 0;
      this.entry.segments.forEach((literal, i) => {
        if (literal === null) params[this.entry.names[n++]!] = decodeSegment(this.segments[i]!);
      });
      this.decoded = params;
    }
    return this.decoded;
  }
}

/** At the first position where one pattern has a literal and the other a parameter, the literal wins. */
function compareParamSpecificity(a: ParamEntry, b: ParamEntry): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const aLiteral = a.segments[i] !== null;
    const bLiteral = b.segments[i] !== null;
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
}

const byMethodThenOrder = (a: Entry, b: Entry) => Number(a.methods.size === 0) - Number(b.methods.size === 0) || a.order - b.order;

const accepts = (entry: Entry, method: string) => entry.methods.size === 0 || entry.methods.has(method);

const firstAccepting = (list: Entry[] | undefined, method: string) => list?.find((e) => accepts(e, method));

const NO_PARAMS: Record<string, string> = Object.freeze({});

const result = (entry: Entry): RouteMatch => ({ service: entry.service, route: entry.route, pattern: entry.pattern, params: NO_PARAMS });

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes: hand the raw text on rather than failing the request
  }
}

/** `Example.COM:8080` → `example.com`, `[::1]:80` → `[::1]`; the form route hosts are compared in. */
export function normaliseHost(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  const name = colon === -1 ? h : h.slice(0, colon);
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
