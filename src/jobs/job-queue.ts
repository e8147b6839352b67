/**
 * A durable job queue in PostgreSQL. Any replica claims the oldest runnable job with
 * `FOR UPDATE SKIP LOCKED` and holds it by a lease it renews while the handler runs. A job whose
 * lease ran out (its replica died) is claimed again; the handler learns it is a retry through
 * `attempt` and must finish or fail the work cleanly. Enqueueing NOTIFYs, so idle runners wake
 * at once; they also poll, so a lost notification only delays.
 *
 * A job runs once at a time:
 *  - claims, renewals and final statuses go over the runner's own connection (JobConnection),
 *    never through the request pool, so pool pressure cannot make a live runner's lease lapse;
 *  - a runner never claims a job it is running itself;
 *  - every claim gets a fresh lease token; the handler's writes go through `job.transaction`,
 *    which refuses (LeaseLostError) once another runner holds the job, and the runner then stops
 *    that job quietly: no retry, no give-up, no status written (src/jobs/lease.ts).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { JobEntity } from '../entities/job.js';
import type { Logger } from '../logger.js';
import { JobConnection } from './job-connection.js';
import { assertLease, LeaseLostError } from './lease.js';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { withObserver, type Observer } from '../observability/observer.js';
import { endSpan, extractTraceContext, SpanKind, traceHeaders } from '../observability/tracing.js';

export { LeaseLostError } from './lease.js';

const CHANNEL = 'stagecraft_jobs';

export interface JobContext {
  id: string;
  attempt: number;
  payload: Record<string, unknown>;
  /** Aborted once this runner learns it lost the lease; long waits may stop early on it. */
  signal: AbortSignal;
  /**
   * A transaction that first checks this runner still holds the job (and keeps it held until
   * commit); throws LeaseLostError otherwise. Every write the handler makes goes through it.
   */
  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T>;
  /** The same check inside a transaction the handler opened itself. */
  assertOwned(tx: EntityManager): Promise<void>;
}

interface ClaimedJob {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  lease_token: string;
}

/** For `giveUp`, `attempt` is the number of attempts that were made. */
export type JobHandler = (job: JobContext) => Promise<void>;

export interface JobQueueOptions {
  leaseMs: number;
  /** How often running jobs' leases are renewed; default a third of leaseMs. */
  renewMs?: number;
  pollMs: number;
  maxAttempts: number;
  /** How many jobs one replica runs at once. */
  concurrency: number;
}

export const defaultJobOptions: JobQueueOptions = { leaseMs: 30_000, pollMs: 1_000, maxAttempts: 3, concurrency: 4 };

/** Payload key carrying the enqueuer's W3C trace context, so the job's span joins its trace. */
const TRACEPARENT = 'traceparent';

export async function enqueueJob(manager: EntityManager, kind: string, payload: Record<string, unknown>): Promise<string> {
  const { traceparent } = traceHeaders();
  if (traceparent) payload = { ...payload, [TRACEPARENT]: traceparent };
  const row = await manager.getRepository(JobEntity).save({ kind, payload, status: 'QUEUED', attempts: 0 });
  await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, kind]);
  return row.id;
}

interface RunningJob {
  token: string;
  lease: AbortController;
}

export class JobRunner {
  private readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, { run: JobHandler; giveUp: JobHandler }>();
  private readonly running = new Set<Promise<void>>();
  /** The jobs this runner holds, by id: renewed together, never claimed again by us. */
  private readonly held = new Map<string, RunningJob>();
  private readonly connection: JobConnection;
  private renewTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: DataSource,
    databaseUrl: string,
    private readonly log: Logger,
    private readonly options: JobQueueOptions = defaultJobOptions,
    /** This instance's metrics and tracer: each run is counted, timed and traced. */
    private readonly observer?: Observer,
  ) {
    // A statement on the job connection gets half a lease (at least a second: a busy machine is
    // not a dead connection) before the connection is replaced and the next renewal tries anew.
    this.connection = new JobConnection(databaseUrl, CHANNEL, log, Math.max(1000, Math.floor(this.options.leaseMs / 2)), () => this.wake?.());
  }

  private get renewMs(): number {
    return this.options.renewMs ?? Math.max(100, Math.floor(this.options.leaseMs / 3));
  }

  /** `giveUp` runs instead of `run` once a job has been tried maxAttempts times. */
  register(kind: string, run: JobHandler, giveUp: JobHandler): void {
    this.handlers.set(kind, { run, giveUp });
  }

  async start(): Promise<void> {
    await this.connection.open();
    this.renewTimer = setInterval(() => void this.renew(), this.renewMs);
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        while (!this.stopped && this.running.size < this.options.concurrency) {
          const job = await this.claim();
          if (!job) break;
          const run = this.execute(job).finally(() => {
            this.running.delete(run);
            this.wake?.();
          });
          this.running.add(run);
        }
      } catch (err) {
        if (!this.stopped) this.log.error({ err }, 'job runner could not claim a job');
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.pollMs);
      });
      clearTimeout(this.timer);
    }
  }

  private async claim(): Promise<ClaimedJob | undefined> {
    const kinds = [...this.handlers.keys()];
    if (!kinds.length) return undefined;
    const rows = await this.connection.query<ClaimedJob>(
      `UPDATE jobs SET status = 'RUNNING', locked_by = $1, locked_until = now() + ($2 || ' milliseconds')::interval,
              attempts = attempts + 1, lease_token = gen_random_uuid()
       WHERE id = (
         SELECT id FROM jobs
         WHERE kind = ANY($3) AND NOT (id = ANY($4::bigint[]))
           AND ((status = 'QUEUED' AND run_after <= now()) OR (status = 'RUNNING' AND locked_until < now()))
         ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING id::text AS id, kind, payload, attempts, lease_token::text AS lease_token`,
      [this.worker, String(this.options.leaseMs), kinds, [...this.held.keys()]],
    );
    const job = rows[0];
    if (job) this.held.set(job.id, { token: job.lease_token, lease: new AbortController() });
    return job;
  }

  /** One statement renews every job we hold; a job it does not return was taken from us. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const jobs = [...this.held.entries()];
    let renewed: { id: string }[];
    try {
      renewed = await this.connection.query<{ id: string }>(
        `UPDATE jobs j SET locked_until = now() + ($3 || ' milliseconds')::interval
         FROM unnest($1::bigint[], $2::uuid[]) AS mine(id, token)
         WHERE j.id = mine.id AND j.lease_token = mine.token AND j.status = 'RUNNING'
         RETURNING j.id::text AS id`,
        [jobs.map(([id]) => id), jobs.map(([, j]) => j.token), String(this.options.leaseMs)],
      );
    } catch (err) {
      if (!this.stopped) this.log.warn({ err: (err as Error).message, jobs: jobs.map(([id]) => id) }, 'could not renew job leases; retrying');
      return;
    }
    const alive = new Set(renewed.map((r) => r.id));
    for (const [id, job] of jobs) {
      // Finished meanwhile (removed from `held`) is not a loss.
      if (!alive.has(id) && this.held.get(id) === job && !job.lease.signal.aborted) {
        this.log.warn({ job: id }, 'lost the lease on a running job; another runner owns it now');
        job.lease.abort(new LeaseLostError(id));
      }
    }
  }

  private context(job: ClaimedJob, held: RunningJob, attempt: number): JobContext {
    const assertOwned = async (tx: EntityManager) => {
      if (held.lease.signal.aborted) throw new LeaseLostError(job.id);
      await assertLease(tx, job.id, held.token);
    };
    return {
      id: job.id,
      attempt,
      payload: job.payload,
      signal: held.lease.signal,
      assertOwned,
      transaction: (fn) =>
        this.db.transaction(async (tx) => {
          await assertOwned(tx);
          return fn(tx);
        }),
    };
  }

  /** A status change of the job, only while we still hold it; false when another runner does. */
  private async settle(job: ClaimedJob, token: string, set: string, params: unknown[] = []): Promise<boolean> {
    const rows = await this.connection.query(
      `UPDATE jobs SET ${set}, locked_by = NULL, locked_until = NULL WHERE id = $1 AND lease_token = $2 RETURNING id`,
      [job.id, token, ...params],
    );
    return rows.length === 1;
  }

  /** Runs the job inside its span (child of the enqueuer's, when it had one) and counts the outcome. */
  private async execute(job: ClaimedJob): Promise<void> {
    const observer = this.observer;
    if (!observer) return void (await this.runJob(job));
    const started = performance.now();
    const traceparent = job.payload[TRACEPARENT];
    let ctx = withObserver(typeof traceparent === 'string' ? extractTraceContext({ traceparent }, ROOT_CONTEXT) : ROOT_CONTEXT, observer);
    const span = observer.tracer?.startSpan(`job ${job.kind}`, { kind: SpanKind.CONSUMER, attributes: { 'stagecraft.job.id': job.id, 'stagecraft.job.kind': job.kind, 'stagecraft.job.attempt': job.attempts } }, ctx);
    if (span) ctx = trace.setSpan(ctx, span);
    const outcome = await context.with(ctx, () => this.runJob(job));
    observer.metrics.observeJob(job.kind, outcome, (performance.now() - started) / 1000);
    if (span) endSpan(span, outcome);
  }

  private async runJob(job: ClaimedJob): Promise<'ok' | 'failed' | 'lease_lost'> {
    const handler = this.handlers.get(job.kind)!;
    const held = this.held.get(job.id)!;
    const lost = () => {
      this.log.warn({ job: job.id, kind: job.kind, attempt: job.attempts }, 'job lease lost: stopped this run without writing more');
      return 'lease_lost' as const;
    };
    try {
      if (job.attempts > this.options.maxAttempts) {
        // Claimed once more than allowed: its runners kept dying. Close it cleanly.
        await handler.giveUp(this.context(job, held, job.attempts - 1));
        if (!(await this.settle(job, held.token, `status = 'FAILED', last_error = 'gave up'`))) return lost();
        return 'failed';
      }
      await handler.run(this.context(job, held, job.attempts));
      if (!(await this.settle(job, held.token, `status = 'DONE'`))) return lost();
      return 'ok';
    } catch (err) {
      if (err instanceof LeaseLostError || held.lease.signal.aborted) return lost();
      this.log.error({ err, job: job.id, kind: job.kind, attempt: job.attempts }, 'job failed');
      const final = job.attempts >= this.options.maxAttempts;
      const settled = await this.settle(job, held.token, `status = $3, last_error = $4, run_after = now() + ($5 || ' milliseconds')::interval`, [
        final ? 'FAILED' : 'QUEUED',
        (err as Error).message,
        String(1000 * 2 ** job.attempts),
      ]).catch(() => false);
      if (!settled) return lost();
      if (final) {
        // FAILED now, so no renewals: the give-up's writes are fenced by the token alone.
        this.held.delete(job.id);
        await handler.giveUp(this.context(job, held, job.attempts)).catch((e: Error) => {
          if (!(e instanceof LeaseLostError)) this.log.error({ err: e, job: job.id }, 'job give-up failed');
        });
      }
      return 'failed';
    } finally {
      this.held.delete(job.id);
    }
  }

  /** Stops claiming and waits for running jobs (their leases lapse if we are killed instead). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.allSettled([...this.running]);
    clearInterval(this.renewTimer);
    await this.connection.close();
  }
}
