/**
 * Sign-in throttling per username and per client address, counted in the database so every
 * replica sees the same count. The check runs before any password hashing: a locked key costs
 * one indexed read (or nothing, once this replica has seen the lock), never an argon2 run.
 */
import type { DataSource } from 'typeorm';
import type { AuthLimits } from '../config.js';
import { lockoutAfter, loginThrottleKeys, retryAfterSeconds, type LockoutPolicy } from '../domain/login-throttle.js';
import { tooManyRequests } from '../errors.js';

type Keys = ReturnType<typeof loginThrottleKeys>;

export class LoginThrottle {
  /** Locks this replica already knows of (key → until, ms): a flood is refused without a query. */
  private readonly knownLocks = new Map<string, number>();
  private readonly userPolicy: LockoutPolicy;
  private readonly addressPolicy: LockoutPolicy;

  constructor(
    private readonly db: DataSource,
    private readonly limits: AuthLimits,
  ) {
    const shared = { baseMs: limits.loginLockoutBaseMs, maxMs: limits.loginLockoutMaxMs };
    this.userPolicy = { ...shared, freeFailures: limits.loginFailuresPerUsername };
    this.addressPolicy = { ...shared, freeFailures: limits.loginFailuresPerAddress };
  }

  keys(username: string, clientAddress: string | null): Keys {
    return loginThrottleKeys(username, clientAddress);
  }

  /** Throws TOO_MANY_REQUESTS (with retryAfterSeconds) while either key is locked. */
  async assertAllowed(keys: Keys): Promise<void> {
    const all = this.list(keys);
    const now = Date.now();
    let until = 0;
    for (const key of all) {
      const known = this.knownLocks.get(key);
      if (known !== undefined && known <= now) this.knownLocks.delete(key);
      else if (known !== undefined) until = Math.max(until, known);
    }
    if (!until) {
      const rows: { key: string; remaining_ms: number }[] = await this.db.query(
        `SELECT key, (extract(epoch FROM locked_until - now()) * 1000)::float8 AS remaining_ms
           FROM login_attempts WHERE key = ANY($1) AND locked_until > now()`,
        [all],
      );
      for (const row of rows) {
        const rowUntil = now + Number(row.remaining_ms);
        this.remember(row.key, rowUntil);
        until = Math.max(until, rowUntil);
      }
    }
    if (until) throw this.refusal(new Date(until), new Date(now));
  }

  /**
   * Until when this replica knows `clientAddress` to be locked (ms since the epoch), else null.
   * Memory only — no statement — so a flood from a locked address can be refused before any
   * GraphQL work (http-server.ts); the database count stays the authority for sign-ins.
   */
  addressLockedUntil(clientAddress: string | null): number | null {
    const key = loginThrottleKeys('', clientAddress).address;
    const until = key ? this.knownLocks.get(key) : undefined;
    return until !== undefined && until > Date.now() ? until : null;
  }

  /** Counts a failure for both keys (one statement), and locks those over their allowance. */
  async recordFailure(keys: Keys): Promise<void> {
    const all = this.list(keys);
    const rows: { key: string; failures: number }[] = await this.db.query(
      `INSERT INTO login_attempts (key, failures, last_failure_at)
         SELECT k, 1, now() FROM unnest($1::varchar[]) AS k
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN login_attempts.last_failure_at < now() - make_interval(secs => $2) THEN 1
                         ELSE login_attempts.failures + 1 END,
         last_failure_at = now()
       RETURNING key, failures`,
      [all, this.limits.loginFailureWindowMs / 1000],
    );
    const locks = rows
      .map((r) => ({ key: r.key, ms: lockoutAfter(r.failures, r.key === keys.username ? this.userPolicy : this.addressPolicy) }))
      .filter((l) => l.ms > 0);
    if (!locks.length) return;
    await this.db.query(
      `UPDATE login_attempts a SET locked_until = now() + make_interval(secs => l.ms / 1000.0)
         FROM unnest($1::varchar[], $2::float8[]) AS l(key, ms) WHERE a.key = l.key`,
      [locks.map((l) => l.key), locks.map((l) => l.ms)],
    );
    for (const l of locks) this.remember(l.key, Date.now() + l.ms);
  }

  /**
   * A correct password clears the username's count. The address keeps its count: otherwise one
   * valid account would let its owner reset the address between guesses at other accounts.
   */
  async recordSuccess(keys: Keys): Promise<void> {
    this.knownLocks.delete(keys.username);
    await this.db.query('DELETE FROM login_attempts WHERE key = $1', [keys.username]);
  }

  private list(keys: Keys): string[] {
    return keys.address ? [keys.username, keys.address] : [keys.username];
  }

  private remember(key: string, until: number): void {
    // Bounded: a flood of distinct usernames must not grow this without end.
    if (this.knownLocks.size >= 10_000) this.knownLocks.clear();
    this.knownLocks.set(key, until);
  }

  private refusal(until: Date, now: Date) {
    const seconds = retryAfterSeconds(until, now);
    return tooManyRequests(`too many failed sign-ins; try again in ${seconds} s`, { retryAfterSeconds: seconds });
  }
}
