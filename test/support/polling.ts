/** Small helpers for tests that watch a gateway or a control plane settle. */

import { setTimeout as sleep } from 'node:timers/promises';

/** One GET through a gateway: status, JSON body, and which Petstore answered (x-upstream-port). */
export async function get(port: number, target = '/pet/1'): Promise<{ status: number; body: any; upstream: number | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${target}`);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, upstream: Number(res.headers.get('x-upstream-port')) || null };
}

/** Polls until `check` holds; fails naming `what` and the last value seen. */
export async function until<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (check(value)) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}
