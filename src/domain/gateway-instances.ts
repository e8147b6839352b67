/** When a gateway instance counts as ONLINE: one rule for the API, deletion and sync rollouts. */

/** An instance is ONLINE while its heartbeats are fresher than this. */
export const ONLINE_WINDOW_MS = 15_000;

export function isOnline(lastSeen: Date, now: number = Date.now()): boolean {
  return now - lastSeen.getTime() < ONLINE_WINDOW_MS;
}

/**
 * OFFLINE instances are history (the console lists them) until they are this old; older ones, and
 * a token's OFFLINE instances beyond its cap (newest kept), are pruned when the token registers
 * a new instance. So a token holds at most twice its cap of rows, however fast ids churn.
 */
export const INSTANCE_RETENTION_MS = 24 * 60 * 60 * 1000;

export const tooManyInstancesMessage = (limit: number) =>
  `too many ONLINE gateway instances for this join token: the limit is ${limit}; an instance counts until ${ONLINE_WINDOW_MS / 1000} s after its last heartbeat`;
