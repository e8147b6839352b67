/**
 * The configuration a gateway group's instances run, as the control plane sends it over the
 * `gatewayConfig(group)` subscription: a full snapshot each time, with a revision number that
 * grows with every change to the group. Shared by both sides.
 */

export interface UpstreamNode {
  host: string;
  port: number;
  /** Relative share of requests (round-robin, weighted). */
  weight: number;
}

export interface ServiceRegistryConfig {
  name: string;
  type: 'DNS' | 'NACOS' | 'KUBERNETES';
  /** DNS: resolver "host:port"; NACOS: base URL of its open API; KUBERNETES: API server URL. */
  address: string;
  /** KUBERNETES: bearer token; NACOS: optional access token. Never logged. */
  token: string | null;
  /** How often nodes are looked up again. */
  refreshMs: number;
}

export interface Discovery {
  registry: ServiceRegistryConfig;
  namespace: string | null;
  serviceName: string;
}

export interface UpstreamConfig {
  /** Exactly one of nodes or discovery. */
  nodes: UpstreamNode[] | null;
  discovery: Discovery | null;
  scheme: 'http';
  /** Per attempt, connect plus response headers. */
  timeoutMs: number;
  /** How many other nodes to try after a connect failure. */
  retries: number;
  /** Passive health: this many consecutive failures eject a node for ejectMs. */
  passiveHealth: { failures: number; ejectMs: number };
}

export interface RouteConfig {
  id: string;
  /** Upper-case HTTP methods; empty = any method. */
  methods: string[];
  /**
   * Paths: exact (`/store/inventory`), prefix (`/static/*`), or with parameters (`/pet/{petId}`).
   * Matching prefers exact, then parameterised, then the longest prefix.
   */
  paths: string[];
  /** Optional Host header to match (without port). */
  host: string | null;
}

export interface ServiceConfig {
  name: string;
  version: string;
  serviceVersionId: string;
  routes: RouteConfig[];
  upstream: UpstreamConfig;
}

export interface GatewayConfig {
  group: string;
  revision: number;
  services: ServiceConfig[];
}

/**
 * The close code of a gateway's socket when its group was deleted (as HTTP 410 Gone): sent on
 * the open socket and again at every reconnect with that group's token. The instance then stops
 * reconnecting and answers 503 GROUP_DELETED. A merely revoked token gets graphql-ws's 4403 and
 * the instance keeps serving its last configuration while it retries.
 */
export const GROUP_DELETED_CLOSE = 4410;
