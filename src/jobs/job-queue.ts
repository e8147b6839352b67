/**
 * A durable job queue in PostgreSQL. Any replica claims the oldest runnable job with
 * `FOR UPDATE SKIP LOCKED` and holds it by a lease it renews while the handler runs. A job whose
 * lease ran out (its replica died) is claimed again; the handler learns it is a retry through
 * `attempt` and must finish or fail the work cleanly. Enqueueing NOTIFYs, so idle runners wake
 * at once; they also poll, so a lost notification only delays.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { JobEntity } from '../entities/job.js';
import type { Logger } from '../logger.js';

const CHANNEL = 'stagecraft_jobs';

export interface JobContext {
  id: string;
  attempt: number;
  payload: Record<string, unknown>;
}

interface ClaimedJob {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/** For `giveUp`, `attempt` is the number of attempts that were made. */
export type JobHandler = (job: JobContext) => Promise<void>;

export interface JobQueueOptions {
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  /** How many jobs one replica runs at once. */
  concurrency: number;
}

export const defaultJobOptions: JobQueueOptions = { leaseMs: 30_000, pollMs: 1_000, maxAttempts: 3, concurrency: 4 };

export async function enqueueJob(manager: EntityManager, kind: string, payload: Record<string, unknown>): Promise<string> {
  const row = await manager.getRepository(JobEntity).save({ kind, payload, status: 'QUEUED', attempts: 0 });
  await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, kind]);
  return row.id;
}

export class JobRunner {
  private readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, { run: JobHandler; giveUp: JobHandler }>();
  private readonly running = new Set<Promise<void>>();
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly options: JobQueueOptions = defaultJobOptions,
  ) {}

  /** `giveUp` runs instead of `run` once a job has been tried maxAttempts times. */
  register(kind: string, run: JobHandler, giveUp: JobHandler): void {
    this.handlers.set(kind, { run, giveUp });
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'stagecraft-jobs' });
    client.on('notification', () => this.wake?.());
    client.on('error', (err) => this.log.warn({ err: err.message }, 'job listener lost its connection; polling only'));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
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
    const result: unknown = await this.db.query(
      `UPDATE jobs SET status = 'RUNNING', locked_by = $1, locked_until = now() + ($2 || ' milliseconds')::interval, attempts = attempts + 1
       WHERE id = (
         SELECT id FROM jobs
         WHERE kind = ANY($3) AND ((status = 'QUEUED' AND run_after <= now()) OR (status = 'RUNNING' AND locked_until < now()))
         ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
       RETURNING id, kind, payload, attempts`,
      [this.worker, String(this.options.leaseMs), kinds],
    );
    // TypeORM answers UPDATE … RETURNING on PostgreSQL with [rows, affectedCount].
    const [rows] = result as [ClaimedJob[], number];
    return rows[0];
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const handler = this.handlers.get(job.kind)!;
    const context = { id: String(job.id), attempt: job.attempts, payload: job.payload };
    // Every write about the job checks we still hold it: a runner that stalled past its lease
    // may have lost the job to another, and must not overwrite that runner's outcome.
    const mine = `id = $1 AND locked_by = '${this.worker.replace(/'/g, "''")}'`;
    const renew = setInterval(() => {
      this.db
        .query(`UPDATE jobs SET locked_until = now() + ($2 || ' milliseconds')::interval WHERE ${mine}`, [context.id, String(this.options.leaseMs)])
        .then((result: unknown) => {
          if ((result as [unknown, number])[1] === 0) this.log.warn({ job: context.id }, 'lost the lease on a running job; another runner owns it now');
        })
        .catch((err: Error) => this.log.warn({ err: err.message, job: context.id }, 'could not renew job lease'));
    }, Math.max(100, Math.floor(this.options.leaseMs / 3)));
    try {
      if (job.attempts > this.options.maxAttempts) {
        // Claimed once more than allowed: its runners kept dying. Close it cleanly.
        await handler.giveUp({ ...context, attempt: job.attempts - 1 });
        await this.db.query(`UPDATE jobs SET status = 'FAILED', locked_by = NULL, locked_until = NULL, last_error = 'gave up' WHERE ${mine}`, [context.id]);
        return;
      }
      await handler.run(context);
      await this.db.query(`UPDATE jobs SET status = 'DONE', locked_by = NULL, locked_until = NULL WHERE ${mine}`, [context.id]);
    } catch (err) {
      this.log.error({ err, job: context.id, kind: job.kind, attempt: job.attempts }, 'job failed');
      const final = job.attempts >= this.options.maxAttempts;
      await this.db
        .query(
          `UPDATE jobs SET status = $2, locked_by = NULL, locked_until = NULL, last_error = $3,
             run_after = now() + ($4 || ' milliseconds')::interval WHERE ${mine}`,
          [context.id, final ? 'FAILED' : 'QUEUED', (err as Error).message, String(1000 * 2 ** job.attempts)],
        )
        .catch(() => undefined);
      if (final) await handler.giveUp(context).catch((e: Error) => this.log.error({ err: e, job: context.id }, 'job give-up failed'));
    } finally {
      clearInterval(renew);
    }
  }

  /** Stops claiming and waits for running jobs (their leases lapse if we are killed instead). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await Promise.allSettled([...this.running]);
    await this.listener?.end().catch(() => undefined);
  }
}
