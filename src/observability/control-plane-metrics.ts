/**
 * The control plane's Prometheus metrics, in a registry of its own (never prom-client's global
 * one), so two instances in one process keep separate counts.
 *
 * Counters and histograms move as work happens (GraphQL operations, calls to other stages,
 * jobs run by this replica). Gauges of shared state (jobs, promotions, the pool) are read when
 * scraped: jobs and promotions from the database, so every replica reports the same totals.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger.js';
import { SYNC_ROLLOUT_JOB } from '../services/gateways.js';
import { BoundedNames } from './bounded-labels.js';

/** Seconds: from a cached read (a few ms) to a large promotion (minutes). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Seconds: fan-out lag, from a few ms (a live feed keeping up) to a minute (far behind). */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60];

/** How an operation reached us: Apollo over HTTP, or graphql-ws. Two values, so the label stays cheap. */
export type Transport = 'http' | 'ws';

/** Distinct GraphQL operation names kept as labels; more count as "other". */
export const MAX_OPERATION_NAMES = 200;

/** What the pg pool behind TypeORM exposes. */
interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

export interface SocketCounts {
  sockets: number;
  subscriptions: number;
}

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly operationNames = new BoundedNames(MAX_OPERATION_NAMES);
  private socketCounts: () => SocketCounts = () => ({ sockets: 0, subscriptions: 0 });

  private readonly operations = new Counter({ name: 'stagecraft_graphql_operations_total', help: 'GraphQL operations by name, type, outcome (ok or the error code) and transport (http, ws; a subscription counts once, when it starts).', labelNames: ['operation', 'type', 'outcome', 'transport'] as const, registers: [this.registry] });
  private readonly operationSeconds = new Histogram({ name: 'stagecraft_graphql_operation_duration_seconds', help: 'GraphQL operation latency by name, type, outcome and transport (for a subscription: until it started).', labelNames: ['operation', 'type', 'outcome', 'transport'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly fanoutLag = new Histogram({ name: 'stagecraft_event_fanout_lag_seconds', help: 'From an event\'s stored time to its frame being handed to subscriber sockets, once per event and view (live events only).', buckets: LAG_BUCKETS, registers: [this.registry] });
  private readonly sockets = new Gauge({ name: 'stagecraft_websocket_sockets', help: 'Open graphql-ws sockets on this replica.', registers: [this.registry] });
  private readonly subscriptions = new Gauge({ name: 'stagecraft_subscriptions_active', help: 'Running GraphQL subscriptions on this replica.', registers: [this.registry] });
  private readonly jobs = new Gauge({ name: 'stagecraft_jobs', help: 'Durable jobs by kind and state (all replicas).', labelNames: ['kind', 'state'] as const, registers: [this.registry] });
  private readonly oldestQueued = new Gauge({ name: 'stagecraft_jobs_oldest_queued_age_seconds', help: 'Age of the oldest queued job, by kind (0 when none waits).', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly jobRuns = new Counter({ name: 'stagecraft_job_runs_total', help: 'Job runs finished on this replica, by kind and outcome (ok, failed, lease_lost).', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });
  private readonly jobSeconds = new Histogram({ name: 'stagecraft_job_run_duration_seconds', help: 'Job run time on this replica, by kind and outcome.', labelNames: ['kind', 'outcome'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly promotions = new Gauge({ name: 'stagecraft_promotions', help: 'Promotions by overall status.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly syncs = new Gauge({ name: 'stagecraft_syncs', help: 'Service-version syncs that rolled out, by status (RUNNING, COMPLETED, FAILED); an UNCHANGED sync rolls nothing out.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly promotionStages = new Gauge({ name: 'stagecraft_promotion_stages', help: 'Promotion target stages by status.', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly remoteCalls = new Counter({ name: 'stagecraft_remote_stage_requests_total', help: 'Requests to other stages, by stage, call (graphql, import) and outcome.', labelNames: ['stage', 'call', 'outcome'] as const, registers: [this.registry] });
  private readonly remoteSeconds = new Histogram({ name: 'stagecraft_remote_stage_request_duration_seconds', help: 'Latency of requests to other stages, by stage, call and outcome.', labelNames: ['stage', 'call', 'outcome'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly pool = new Gauge({ name: 'stagecraft_db_pool_connections', help: 'PostgreSQL request pool: connections total and idle, and requests waiting for one.', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly scrapeErrors = new Counter({ name: 'stagecraft_metrics_read_errors_total', help: 'Scrapes whose database read failed (its gauges are left out).', registers: [this.registry] });

  constructor(
    private readonly db: DataSource,
    private readonly log: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where socket and subscription counts come from (the HTTP server, once it exists). */
  countSocketsWith(read: () => SocketCounts): void {
    this.socketCounts = read;
  }

  /** The label an operation name is counted under (bounded; only signed-in, valid operations add names: see BoundedNames). */
  operationLabel(name: string | null | undefined, mayAdd = true): string {
    return this.operationNames.label(name, mayAdd);
  }

  observeOperation(operation: string, type: string, outcome: string, seconds: number, transport: Transport): void {
    this.operations.inc({ operation, type, outcome, transport });
    this.operationSeconds.observe({ operation, type, outcome, transport }, seconds);
  }

  /** One live event's frame built for one view and handed to its subscribers' sockets. */
  observeFanoutLag(seconds: number): void {
    this.fanoutLag.observe(Math.max(0, seconds));
  }

  observeRemoteCall(stage: string, call: 'graphql' | 'import', outcome: string, seconds: number): void {
    this.remoteCalls.inc({ stage, call, outcome });
    this.remoteSeconds.observe({ stage, call, outcome }, seconds);
  }

  observeJob(kind: string, outcome: 'ok' | 'failed' | 'lease_lost', seconds: number): void {
    this.jobRuns.inc({ kind, outcome });
    this.jobSeconds.observe({ kind, outcome }, seconds);
  }

  /** The exposition text, with the gauges read now. */
  async render(): Promise<string> {
    const { sockets, subscriptions } = this.socketCounts();
    this.sockets.set(sockets);
    this.subscriptions.set(subscriptions);
    this.readPool();
    await this.readDatabase();
    return this.registry.metrics();
  }

  private readPool(): void {
    const pool = (this.db.driver as unknown as { master?: PoolCounts }).master;
    if (!pool) return;
    this.pool.set({ state: 'total' }, pool.totalCount);
    this.pool.set({ state: 'idle' }, pool.idleCount);
    this.pool.set({ state: 'waiting' }, pool.waitingCount);
  }

  private async readDatabase(): Promise<void> {
    this.jobs.reset();
    this.oldestQueued.reset();
    this.promotions.reset();
    this.promotionStages.reset();
    this.syncs.reset();
    try {
      const [jobs, promotions, stages, syncs] = await Promise.all([
        this.db.query<{ kind: string; status: string; count: number; oldest: number | null }[]>(
          `SELECT kind, status, count(*)::int AS count,
                  CASE WHEN status = 'QUEUED' THEN extract(epoch FROM now() - min(created_at))::float8 END AS oldest
           FROM jobs GROUP BY kind, status`,
        ),
        this.db.query<{ status: string; count: number }[]>('SELECT status, count(*)::int AS count FROM promotions GROUP BY status'),
        this.db.query<{ status: string; count: number }[]>('SELECT status, count(*)::int AS count FROM promotion_stages GROUP BY status'),
        // A sync's status is the end of its progress stream; each rollout is one durable job.
        this.db.query<{ status: string; count: number }[]>(
          `SELECT status, count(*)::int AS count FROM (
             SELECT CASE WHEN bool_or(e.type = 'FAILED') THEN 'FAILED' WHEN bool_or(e.type = 'COMPLETED') THEN 'COMPLETED' ELSE 'RUNNING' END AS status
             FROM jobs j JOIN events e ON e.stream = 'sync:' || (j.payload->>'operationId')
             WHERE j.kind = $1 GROUP BY j.id) s
           GROUP BY status`,
          [SYNC_ROLLOUT_JOB],
        ),
      ]);
      const kinds = new Set<string>();
      for (const row of jobs) {
        kinds.add(row.kind);
        this.jobs.set({ kind: row.kind, state: row.status }, row.count);
        if (row.oldest !== null) this.oldestQueued.set({ kind: row.kind }, Math.max(0, row.oldest));
      }
      for (const kind of kinds) if (!jobs.some((r) => r.kind === kind && r.status === 'QUEUED')) this.oldestQueued.set({ kind }, 0);
      for (const row of promotions) this.promotions.set({ status: row.status }, row.count);
      for (const row of stages) this.promotionStages.set({ status: row.status }, row.count);
      for (const row of syncs) this.syncs.set({ status: row.status }, row.count);
    } catch (err) {
      this.scrapeErrors.inc();
      this.log.warn({ err: (err as Error).message }, 'metrics: could not read job and promotion counts');
    }
  }
}
