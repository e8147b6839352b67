/**
 * How long a sign-in key (a username, a client address) must wait after failed attempts. Pure:
 * the service counts failures in the database and asks this rule what the count means.
 */
import { createHash } from 'node:crypto';

export interface LockoutPolicy {
  /** Failures allowed before the first wait. */
  freeFailures: number;
  /** The first wait; each further failure doubles it. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
}

/**
 * The wait after the `failures`-th consecutive failure: none within the free failures, then
 * base, 2×base, 4×base … up to max. Exponential, so a guesser gets ~log2(max/base) + free
 * tries per window, while a user who mistypes a few times waits at most seconds.
 */
export function lockoutAfter(failures: number, policy: LockoutPolicy): number {
  if (!Number.isFinite(failures) || failures < policy.freeFailures) return 0;
  const doublings = failures - policy.freeFailures;
  // 2^31 ms is already 24 days; past it, only the cap matters (and Math.pow stays finite).
  if (doublings >= 31) return policy.maxMs;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
}

/** Whole seconds to tell a client to wait (Retry-After semantics): never 0 while locked. */
export function retryAfterSeconds(lockedUntil: Date, now: Date): number {
  return Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
}

/**
 * The throttle keys of one sign-in attempt. The username is digested: whatever a client sends
 * (100 KB, any characters) becomes a fixed-size key, and the table holds no usernames.
 * Usernames compare case-sensitively, as login does.
 */
export function loginThrottleKeys(username: string, clientAddress: string | null): { username: string; address: string | null } {
  const digest = createHash('sha256').update(username).digest('base64url');
  return { username: `user:${digest}`, address: clientAddress ? `addr:${clientAddress.slice(0, 100)}` : null };
}
