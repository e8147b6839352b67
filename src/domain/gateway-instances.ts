/** When a gateway instance counts as ONLINE: one rule for the API, deletion and sync rollouts. */

/** An instance is ONLINE while its heartbeats are fresher than this. */
export const ONLINE_WINDOW_MS = 15_000;

export function isOnline(lastSeen: Date, now: number = Date.now()): boolean {
  return now - lastSeen.getTime() < ONLINE_WINDOW_MS;
}
