/**
 * A compiled, immutable view of one GatewayConfig (plus the nodes discovery found for it): the
 * route table and one balancer per service upstream. The proxy swaps the current snapshot with
 * a single assignment, and each request holds on to the snapshot it started with, so a request
 * in flight during a swap finishes entirely (retries included) with the old routes and nodes.
 *
 * A snapshot counts its requests in flight. Once replaced (`retire`) and drained, it releases
 * its node pools, which closes the pools no newer snapshot uses.
 */
import type { Pool } from 'undici';
import { Balancer, type Clock } from './balancer.js';
import type { GatewayConfig, ServiceConfig, UpstreamConfig, UpstreamNode } from './config.js';
import type { PoolRegistry } from './pools.js';
import { compileRoutes, type CompiledRoutes } from './router.js';

export interface UpstreamRuntime {
  service: ServiceConfig;
  upstream: UpstreamConfig;
  balancer: Balancer;
  /** `name version`, as metrics and error messages name the service. */
  label: string;
}

export class Snapshot {
  readonly routes: CompiledRoutes;
  readonly upstreams = new Map<string, UpstreamRuntime>();
  /** Config problems worth a warning (bad paths or nodes, skipped). */
  readonly problems: string[] = [];
  private readonly nodeKeys = new Set<string>();
  private inFlight = 0;
  private retired = false;
  private released = false;

  /**
   * @param discovered nodes found by service discovery, by serviceVersionId
   * @param previous the snapshot being replaced: its route table is reused when the config is
   *   the same object (a discovery update), and its balancers hand over node health.
   */
  constructor(
    readonly config: GatewayConfig,
    discovered: ReadonlyMap<string, readonly UpstreamNode[]>,
    private readonly pools: PoolRegistry,
    clock: Clock,
    previous: Snapshot | null,
  ) {
    this.routes = previous?.config === config ? previous.routes : compileRoutes(config);
    this.problems.push(...this.routes.problems);

    for (const service of config.services) {
      const upstream = service.upstream;
      const configured = upstream.discovery ? (discovered.get(service.serviceVersionId) ?? []) : (upstream.nodes ?? []);
      const nodes = configured.filter((n) => {
        const ok = typeof n.host === 'string' && n.host.length > 0 && Number.isInteger(n.port) && n.port > 0 && n.port < 65536;
        if (!ok) this.problems.push(`service ${service.name} ${service.version}: node ${JSON.stringify(n)} skipped (needs a host and a port 1-65535)`);
        return ok;
      });
      const balancer = new Balancer(nodes, upstream.passiveHealth, clock, previous?.upstreams.get(service.serviceVersionId)?.balancer);
      this.upstreams.set(service.serviceVersionId, { service, upstream, balancer, label: `${service.name} ${service.version}` });
      for (const node of balancer.nodes) this.nodeKeys.add(node.key);
    }
    for (const key of this.nodeKeys) pools.acquire(key);
  }

  get revision(): number {
    return this.config.revision;
  }

  /** The pool of a node of this snapshot; alive as long as the snapshot is. */
  pool(key: string): Pool {
    const pool = this.nodeKeys.has(key) ? this.pools.get(key) : undefined;
    if (!pool) throw new Error(`no pool for node ${key} in revision ${this.revision}`);
    return pool;
  }

  enter(): void {
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
    this.releaseIfDone();
  }

  /** Replaced by a newer snapshot: release the pools once the last request has finished. */
  retire(): void {
    this.retired = true;
    this.releaseIfDone();
  }

  private releaseIfDone(): void {
    if (!this.retired || this.inFlight > 0 || this.released) return;
    this.released = true;
    for (const key of this.nodeKeys) this.pools.release(key);
  }
}
