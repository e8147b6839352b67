/**
 * What syncing a running service version into a target gateway group does (DESIGN §2, API7's
 * "synchronize"), decided from what the target already holds. Pure: the service reads the rows,
 * this decides, the service writes. Re-running a sync is always safe: the same request twice
 * changes nothing the second time, and a different upstream is a new revision, never a refusal.
 */
import { canonicalJson } from './checksum.js';

/** How a service version reaches its upstream (the stored form, after validation). */
export interface UpstreamShape {
  nodes: readonly { host: string; port: number; weight: number }[] | null;
  discovery: { registry: string; namespace: string | null; serviceName: string } | null;
  timeoutMs: number;
  retries: number;
}

/** A version row as the decision needs it. */
export interface VersionShape {
  id: string;
  assetId: string;
  version: string;
  routes: unknown;
  upstream: UpstreamShape;
}

/**
 * Do two upstreams send traffic to the same place in the same way? Node order does not matter
 * (the balancer spreads by weight, not by position); hosts compare case-insensitively, as DNS
 * does. Nodes and discovery never compare equal, whatever they would resolve to.
 */
export function sameUpstream(a: UpstreamShape, b: UpstreamShape): boolean {
  return canonicalJson(normaliseUpstream(a)) === canonicalJson(normaliseUpstream(b));
}

function normaliseUpstream(u: UpstreamShape) {
  const nodes = u.nodes?.length
    ? u.nodes.map((n) => ({ host: n.host.trim().toLowerCase(), port: n.port, weight: n.weight })).sort((x, y) => (x.host === y.host ? x.port - y.port || x.weight - y.weight : x.host < y.host ? -1 : 1))
    : null;
  const discovery = u.discovery ? { registry: u.discovery.registry, namespace: u.discovery.namespace ?? null, serviceName: u.discovery.serviceName } : null;
  return { nodes, discovery, timeoutMs: u.timeoutMs, retries: u.retries };
}

export type SyncDecision =
  /** The target has no version with this number: copy it. */
  | { action: 'CREATED' }
  /** The target runs (or ran) this version with another upstream: a new copy with the new upstream. */
  | { action: 'UPSTREAM_CHANGED'; previous: VersionShape }
  /** The target holds a copy with this upstream but runs another one (or none): run that copy again. */
  | { action: 'REACTIVATED'; existing: VersionShape }
  /** The target already runs this exact copy: nothing to write, no new revision. */
  | { action: 'UNCHANGED'; existing: VersionShape }
  /** The target's version with this number was published from something else. */
  | { action: 'REFUSED'; reason: string };

/**
 * @param source   the running version being synced
 * @param copies   the target's rows with the same service and version number (any order)
 * @param runningId the target's running version of the service, if any
 * @param upstream the upstream asked for in the target
 */
export function decideSync(source: VersionShape, copies: readonly VersionShape[], runningId: string | null, upstream: UpstreamShape): SyncDecision {
  if (!copies.length) return { action: 'CREATED' };
  const sameContent = (v: VersionShape) => v.assetId === source.assetId && canonicalJson(v.routes) === canonicalJson(source.routes);
  if (!copies.every(sameContent)) {
    return { action: 'REFUSED', reason: `version ${source.version} in the target group was published from a different API definition; publish a new version there instead` };
  }
  const running = copies.find((v) => v.id === runningId);
  if (running && sameUpstream(running.upstream, upstream)) return { action: 'UNCHANGED', existing: running };
  // Going back to an upstream the group had: run that copy again rather than pile up identical rows.
  const match = copies.find((v) => sameUpstream(v.upstream, upstream));
  if (match) return { action: 'REACTIVATED', existing: match };
  return { action: 'UPSTREAM_CHANGED', previous: running ?? copies[copies.length - 1]! };
}
