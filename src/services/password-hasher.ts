/**
 * argon2id, with a bound on how many hashes run at once. Each hash takes a core for tens of
 * milliseconds and 64 MB; left unbounded, a flood of sign-ins (valid-looking or not) fills the
 * libuv pool and every core, and other users' requests wait behind it. Excess work waits in a
 * short queue, and beyond that is refused at once with TOO_MANY_REQUESTS.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { tooManyRequests } from '../errors.js';

export interface HasherLimits {
  concurrency: number;
  queue: number;
}

export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Verifying against this when the user does not exist keeps the timing of both failures alike. */
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly limits: HasherLimits) {}

  /**
   * One lane (parallelism 1): a hash occupies one core, so the concurrency bound is a bound on
   * cores. (argon2's default of 4 lanes runs 4 threads per hash.) Memory and passes stay at the
   * library's defaults (64 MB, t=3). Existing hashes verify with the parameters they carry.
   */
  hash(password: string): Promise<string> {
    return this.withSlot(() => argon2.hash(password, { type: argon2.argon2id, parallelism: 1 }));
  }

  /** True when `password` matches `hash`; with no hash (unknown user) it spends the same time and says false. */
  async verify(hash: string | null, password: string): Promise<boolean> {
    if (hash === null) {
      const dummy = await (this.dummyHash ??= this.hash(randomBytes(16).toString('hex')));
      await this.withSlot(() => argon2.verify(dummy, password));
      return false;
    }
    return this.withSlot(() => argon2.verify(hash, password));
  }

  /** Refuses up front when no slot or queue place is free (saves a sign-in's database reads). */
  assertCapacity(): void {
    if (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.queue) throw this.busy();
  }

  private busy() {
    return tooManyRequests('too many sign-ins in progress; try again in a moment', { retryAfterSeconds: 1 });
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queue) throw this.busy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
