/**
 * Load balancing over one upstream's nodes: smooth weighted round-robin plus passive health.
 * Pure apart from the injected clock, so it is unit-tested with a fake one.
 *
 * Smooth weighted round-robin (nginx's algorithm): each pick adds every eligible node's weight
 * to its running `current`, takes the node with the highest `current` and subtracts the total
 * from it. Weights 5:1:1 give a a b a c a a rather than a a a a a b c, so a heavy node never
 * gets a burst. Nodes that are ejected or excluded (already tried by this request) take no part
 * in a pick, exactly as nginx skips failed peers.
 *
 * Passive health: `failures` consecutive failures eject a node for `ejectMs`. When that time is
 * up the node is on probation: the next result decides, a failure ejects it again at once, a
 * success makes it healthy. Successes only reset the failure count; they do not end an ejection
 * early (a response may have been in flight since before the ejection). `failures <= 0` turns
 * passive health off. When every node is ejected, `pick` returns null: the proxy answers
 * NO_HEALTHY_UPSTREAM rather than hammering nodes known to be down.
 */
import type { UpstreamNode } from './config.js';

export interface PassiveHealth {
  failures: number;
  ejectMs: number;
}

export type Clock = () => number;

/** Per-node state that outlives config swaps (shared with the balancer of the next snapshot). */
export interface NodeState {
  current: number;
  consecutiveFailures: number;
  /** Clock time until which the node is ejected; 0 when it never was. */
  ejectedUntil: number;
  probation: boolean;
}

export interface BalancedNode {
  /** `host:port`, the node's identity across config snapshots. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly state: NodeState;
}

export const nodeKey = (node: { host: string; port: number }) => (node.host.includes(':') && !node.host.startsWith('[') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`);

export class Balancer {
  readonly nodes: readonly BalancedNode[];
  private readonly byKey = new Map<string, BalancedNode>();

  /**
   * @param previous the balancer of the same upstream in the previous snapshot: nodes that stay
   *   keep their health and round-robin position (the very same state objects, so results of
   *   requests still in flight on the old snapshot count for the new one too).
   */
  constructor(
    nodes: readonly UpstreamNode[],
    readonly health: PassiveHealth,
    private readonly clock: Clock = Date.now,
    previous?: Balancer,
  ) {
    // The same host:port listed twice is one node with the summed weight.
    const weights = new Map<string, { host: string; port: number; weight: number }>();
    for (const n of nodes) {
      const key = nodeKey(n);
      const weight = Number.isFinite(n.weight) && n.weight > 0 ? n.weight : 0;
      const seen = weights.get(key);
      if (seen) seen.weight += weight;
      else weights.set(key, { host: n.host, port: n.port, weight });
    }
    for (const [key, n] of weights) {
      const state = previous?.byKey.get(key)?.state ?? { current: 0, consecutiveFailures: 0, ejectedUntil: 0, probation: false };
      this.byKey.set(key, { key, host: n.host, port: n.port, weight: n.weight, state });
    }
    this.nodes = [...this.byKey.values()];
  }

  /** The next node, skipping ejected nodes and those in `exclude`; null when none is left. */
  pick(exclude?: ReadonlySet<string>): BalancedNode | null {
    const now = this.clock();
    let total = 0;
    let best: BalancedNode | null = null;
    for (const node of this.nodes) {
      if (node.weight <= 0 || exclude?.has(node.key) || !this.available(node, now)) continue;
      node.state.current += node.weight;
      total += node.weight;
      if (!best || node.state.current > best.state.current) best = node;
    }
    if (best) best.state.current -= total;
    return best;
  }

  success(key: string): void {
    const node = this.byKey.get(key);
    if (!node) return;
    node.state.consecutiveFailures = 0;
    if (node.state.ejectedUntil <= this.clock()) node.state.probation = false;
  }

  /** Counts a failure; returns true when it ejected the node (worth a log line). */
  failure(key: string): boolean {
    const node = this.byKey.get(key);
    if (!node || this.health.failures <= 0) return false;
    const now = this.clock();
    const s = node.state;
    if (s.ejectedUntil > now) return false; // already out
    s.consecutiveFailures++;
    if (s.probation || s.consecutiveFailures >= this.health.failures) {
      s.ejectedUntil = now + Math.max(0, this.health.ejectMs);
      s.consecutiveFailures = 0;
      s.probation = true;
      return true;
    }
    return false;
  }

  isEjected(key: string): boolean {
    const node = this.byKey.get(key);
    return !!node && node.state.ejectedUntil > this.clock();
  }

  /** Whether some node could take a request now; per request, so it allocates nothing. */
  anyHealthy(): boolean {
    const now = this.clock();
    for (const n of this.nodes) if (n.weight > 0 && this.available(n, now)) return true;
    return false;
  }

  /** Nodes that could take a request now (weight > 0, not ejected). */
  healthyCount(): number {
    const now = this.clock();
    return this.nodes.filter((n) => n.weight > 0 && this.available(n, now)).length;
  }

  private available(node: BalancedNode, now: number): boolean {
    return this.health.failures <= 0 || node.state.ejectedUntil <= now;
  }
}
