/**
 * The job queue against a real PostgreSQL: a job runs once.
 *  - a write fenced by a lease token that was taken over is refused and writes nothing, and the
 *    runner stops that job quietly (no status, no retry, no give-up);
 *  - while a fenced write is in flight nobody can take the job over;
 *  - a runner never claims a job it runs itself, even when its lease has lapsed;
 *  - leases are renewed while every pool connection is held by someone else.
 */
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource, migrate } from '../../src/db/data-source.js';
import { appendEvent } from '../../src/events/event-log.js';
import { enqueueJob, JobRunner, LeaseLostError, type JobContext, type JobQueueOptions } from '../../src/jobs/job-queue.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, sql } from '../support/database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: DataSource;
const logs: Record<string, any>[] = [];
const log = createLogger(
  'info',
  new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  }),
);

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDataSource(database.url, { poolSize: 2, applicationName: 'job-queue-test' });
  await db.initialize();
  await migrate(db);
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A runner with one handler kind; stopped by the returned function. */
async function runner(kind: string, run: (job: JobContext) => Promise<void>, giveUp: (job: JobContext) => Promise<void>, options: Partial<JobQueueOptions> = {}) {
  const jobs = new JobRunner(db, database.url, log, { leaseMs: 30_000, pollMs: 100, maxAttempts: 3, concurrency: 2, ...options });
  jobs.register(kind, run, giveUp);
  await jobs.start();
  return jobs;
}

const jobRow = async (id: string) => (await sql(database.url, 'SELECT status, attempts, locked_by, lease_token::text AS token, last_error FROM jobs WHERE id = $1', [id]))[0];
const events = (stream: string) => sql(database.url, 'SELECT type FROM events WHERE stream = $1 ORDER BY sequence', [stream]);

describe('job queue', () => {
  it('refuses a fenced write once the lease was taken over, writes nothing, and stops the job quietly', async () => {
    const stream = 'fence-test';
    let proceed!: () => void;
    const mayProceed = new Promise<void>((r) => (proceed = r));
    let refused: unknown;
    let runs = 0;
    let giveUps = 0;
    const jobs = await runner(
      'fence',
      async (job) => {
        runs++;
        await job.transaction((tx) => appendEvent(tx, stream, 'FIRST', {}));
        await mayProceed;
        try {
          await job.transaction(async (tx) => {
            await appendEvent(tx, stream, 'SECOND', {});
          });
        } catch (err) {
          refused = err;
          throw err;
        }
      },
      async () => void giveUps++,
    );
    try {
      const id = await db.transaction((tx) => enqueueJob(tx, 'fence', {}));
      await waitFor('the first fenced write', async () => (await events(stream)).length === 1);
      const claimed = await jobRow(id);
      expect(claimed).toMatchObject({ status: 'RUNNING', attempts: 1, token: expect.any(String) });

      // Another runner takes the job over: a new claim means a new token.
      const [{ token: theirs }] = await sql(database.url, "UPDATE jobs SET lease_token = gen_random_uuid(), locked_by = 'someone else' WHERE id = $1 RETURNING lease_token::text AS token", [id]);
      proceed();
      await waitFor('the refusal', () => refused);
      await waitFor('the runner to let go of the job', () => logs.some((l) => l.msg === 'job lease lost: stopped this run without writing more' && l.job === id));

      expect(refused).toBeInstanceOf(LeaseLostError);
      expect(await events(stream)).toEqual([{ type: 'FIRST' }]);
      // The job is the other runner's: untouched by this one (no DONE, no QUEUED, no error).
      expect(await jobRow(id)).toEqual({ status: 'RUNNING', attempts: 1, locked_by: 'someone else', token: theirs, last_error: null });
      expect(runs).toBe(1);
      expect(giveUps).toBe(0);
      expect(logs.filter((l) => l.msg === 'job failed')).toEqual([]);
    } finally {
      await jobs.stop();
    }
  });

  it('lets nobody take a job over while one of its fenced writes is in flight', async () => {
    let inside!: () => void;
    const isInside = new Promise<void>((r) => (inside = r));
    let leave!: () => void;
    const mayLeave = new Promise<void>((r) => (leave = r));
    const jobs = await runner(
      'hold',
      (job) =>
        job.transaction(async (tx) => {
          await appendEvent(tx, 'hold-test', 'WRITING', {});
          inside();
          await mayLeave;
        }),
      async () => undefined,
    );
    try {
      const id = await db.transaction((tx) => enqueueJob(tx, 'hold', {}));
      await isInside;
      // The lease ran out, as far as the table says; a claim still cannot take the job.
      await sql(database.url, "UPDATE jobs SET locked_until = now() - interval '1 minute' WHERE id = $1", [id]);
      const claim = `SELECT id FROM jobs WHERE id = $1 AND status = 'RUNNING' AND locked_until < now() FOR UPDATE SKIP LOCKED`;
      expect(await sql(database.url, claim, [id])).toEqual([]);
      leave();
      await waitFor('the job to finish', async () => (await jobRow(id)).status === 'DONE');
      expect(await events('hold-test')).toEqual([{ type: 'WRITING' }]);
    } finally {
      await jobs.stop();
    }
  });

  it('never claims its own running job again, even when its lease lapsed', async () => {
    let runs = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // Renewals far apart: the lease lapses while the handler works; the runner keeps polling.
    const jobs = await runner(
      'slow',
      async (job) => {
        runs++;
        await released;
        await job.transaction((tx) => appendEvent(tx, 'slow-test', 'DONE', {}));
      },
      async () => undefined,
      { leaseMs: 500, renewMs: 60_000, pollMs: 50 },
    );
    try {
      const id = await db.transaction((tx) => enqueueJob(tx, 'slow', {}));
      await waitFor('the job to start', () => runs === 1);
      await waitFor('the lease to lapse', async () => (await sql(database.url, 'SELECT 1 FROM jobs WHERE id = $1 AND locked_until < now()', [id])).length === 1);
      await sleep(600); // a dozen polls with the job claimable
      expect(runs).toBe(1);
      expect((await jobRow(id)).attempts).toBe(1);
      release();
      await waitFor('the job to finish', async () => (await jobRow(id)).status === 'DONE');
      expect(await events('slow-test')).toEqual([{ type: 'DONE' }]);
    } finally {
      await jobs.stop();
    }
  });

  it('renews leases while every pool connection is held by others', async () => {
    // Both connections of the pool (poolSize 2) are busy for 3 s, six leases long.
    const holders = await Promise.all([db.createQueryRunner(), db.createQueryRunner()]);
    await Promise.all(holders.map((h) => h.connect()));
    let runs = 0;
    const jobs = await runner(
      'starved',
      async (job) => {
        runs++;
        await job.transaction((tx) => appendEvent(tx, 'starved-test', 'DONE', {}));
      },
      async () => undefined,
      { leaseMs: 500, pollMs: 50 },
    );
    const lease = async (id: string) => (await sql(database.url, 'SELECT extract(epoch FROM locked_until - now()) AS left FROM jobs WHERE id = $1', [id]))[0]?.left as number | null;
    try {
      const id = (await sql(database.url, "INSERT INTO jobs (kind, payload, status) VALUES ('starved', '{}', 'QUEUED') RETURNING id::text AS id"))[0].id as string;
      await sql(database.url, "SELECT pg_notify('stagecraft_jobs', 'starved')");
      await waitFor('the claim', async () => (await jobRow(id)).status === 'RUNNING');
      const seen: number[] = [];
      for (let i = 0; i < 12; i++) {
        await sleep(250);
        seen.push(Number(await lease(id)));
      }
      // The handler is stuck waiting for a pool connection, and its lease never ran out.
      expect(Math.min(...seen)).toBeGreaterThan(0);
      expect(runs).toBe(1);
      await Promise.all(holders.map((h) => h.release()));
      await waitFor('the job to finish', async () => (await jobRow(id)).status === 'DONE');
      expect((await jobRow(id)).attempts).toBe(1);
      expect(await events('starved-test')).toEqual([{ type: 'DONE' }]);
    } finally {
      await Promise.all(holders.map((h) => (h.isReleased ? undefined : h.release())));
      await jobs.stop();
    }
  });
});
