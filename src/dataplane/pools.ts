/**
 * One undici Pool (keep-alive connections) per upstream node, shared by every config snapshot
 * that lists the node. Reference-counted by snapshot: a config swap acquires the new snapshot's
 * nodes before the old snapshot releases its own, so a node that stays keeps its warm
 * connections, and a node that goes is closed only once the last snapshot using it has no
 * request in flight. `Pool.close()` itself waits for queued requests, then closes the sockets.
 */
import { Pool } from 'undici';
import type { Logger } from '../logger.js';

/**
 * Ceiling for undici's own connect timeout. The proxy enforces each upstream's `timeoutMs` with
 * its own timer (connect plus response headers); this only makes sure a connect the proxy has
 * already given up on does not linger.
 */
const CONNECT_TIMEOUT_CAP_MS = 10_000;

export class PoolRegistry {
  private readonly pools = new Map<string, { pool: Pool; refs: number }>();

  constructor(private readonly log: Logger) {}

  /** The pool of `key` (`host:port`), created on first use; pair with `release`. */
  acquire(key: string): Pool {
    let entry = this.pools.get(key);
    if (!entry) {
      entry = {
        pool: new Pool(`http://${key}`, {
          connect: { timeout: CONNECT_TIMEOUT_CAP_MS },
          // Idle sockets close after 4 s unless the upstream's Keep-Alive header says otherwise;
          // undici honours that hint minus a safety margin, so it does not reuse a socket the
          // upstream is about to close.
          keepAliveTimeout: 4_000,
        }),
        refs: 0,
      };
      this.pools.set(key, entry);
    }
    entry.refs++;
    return entry.pool;
  }

  release(key: string): void {
    const entry = this.pools.get(key);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.pools.delete(key);
    entry.pool.close().catch((err: unknown) => this.log.debug({ err, node: key }, 'upstream pool close failed'));
  }

  get(key: string): Pool | undefined {
    return this.pools.get(key)?.pool;
  }

  /** Node keys with a live pool (tests and diagnostics). */
  keys(): string[] {
    return [...this.pools.keys()];
  }

  /** Shutdown: closes every pool, destroying connections still busy after `graceMs`. */
  async closeAll(graceMs: number): Promise<void> {
    const pools = [...this.pools.values()].map((e) => e.pool);
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const gracePassed = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, graceMs, true)));
        const closed = pool.close().then(() => false, () => true);
        const mustDestroy = await Promise.race([closed, gracePassed]);
        clearTimeout(timer);
        if (mustDestroy) await pool.destroy().catch(() => undefined);
      }),
    );
  }
}
