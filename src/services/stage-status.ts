/**
 * Whether each registered stage can be reached, for readers (Stage.status): checked in the
 * background, once per stage per interval, however many clients read it — a reader never causes
 * an outbound call. A check signs in and asks the stage what it is (RemoteStage.info), through the
 * same client, outbound rule and fixed failure vocabulary as promotions, so an error never repeats
 * what the remote said and never carries credentials. Each replica checks for itself.
 */
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StageService } from './stages.js';

export interface StageStatus {
  /** A Stagecraft instance answered (even if it refused our credentials). */
  reachable: boolean;
  latencyMs: number | null;
  productVersion: string | null;
  checkedAt: Date;
  /** The failure in fixed words (`CODE: …`), or null. */
  error: string | null;
}

export class StageStatusMonitor {
  private statuses = new Map<string, StageStatus>();
  /** Stages with a check under way: a slow stage is not checked again until it answers. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Clients whose credentials the stage refused, with that status. */
  private readonly refused = new WeakMap<object, StageStatus>();
  private round: Promise<void> | undefined;
  /** Checks started since this process began (for tests: readers must not add any). */
  checks = 0;

  constructor(
    private readonly stages: StageService,
    private readonly log: Logger,
  ) {}

  /** Checks every stage now and then every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.checkAll(), intervalMs);
    this.timer.unref();
    void this.checkAll();
  }

  /** Stops checking. A check still waiting on a slow stage is left to end on its own (bounded by the client's timeouts) and is not logged. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.round;
  }

  /** The last check of a stage; null before its first one finished. */
  get(name: string): StageStatus | null {
    return this.statuses.get(name) ?? null;
  }

  /** One round: a check for every registered stage not still being checked; deleted stages are forgotten. */
  checkAll(): Promise<void> {
    this.round ??= (async () => {
      try {
        const names = (await this.stages.list()).map((s) => s.name);
        this.statuses = new Map([...this.statuses].filter(([name]) => names.includes(name)));
        for (const name of names) {
          if (this.inFlight.has(name)) continue;
          this.checks++;
          const check = this.check(name)
            .then((status) => void this.statuses.set(name, status))
            .finally(() => this.inFlight.delete(name));
          this.inFlight.set(name, check);
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not list stages to check');
      } finally {
        this.round = undefined;
      }
    })();
    return this.round;
  }

  /** A failure in our vocabulary; any answer but "unreachable" came from a Stagecraft instance. */
  private failed(err: AppError): StageStatus {
    return { reachable: err.code !== 'STAGE_UNREACHABLE', latencyMs: null, productVersion: null, checkedAt: new Date(), error: `${err.code}: ${err.message}` };
  }

  private async check(name: string): Promise<StageStatus> {
    const started = performance.now();
    try {
      const client = await this.stages.remote(name);
      // Signing in again with credentials the stage refused would only grow their lockout there:
      // not retried until the stage is changed (which makes a new client).
      const refused = this.refused.get(client);
      if (refused) return { ...refused, checkedAt: new Date() };
      const info = await client.info().catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'UNAUTHENTICATED') this.refused.set(client, this.failed(err));
        throw err;
      });
      return { reachable: true, latencyMs: Math.round(performance.now() - started), productVersion: info.productVersion, checkedAt: new Date(), error: null };
    } catch (err) {
      if (err instanceof AppError) return this.failed(err);
      if (!this.stopped) this.log.error({ err, stage: name }, 'stage check failed unexpectedly');
      return { reachable: false, latencyMs: null, productVersion: null, checkedAt: new Date(), error: 'INTERNAL_SERVER_ERROR: the check failed here (see the server log)' };
    }
  }
}
