/**
 * The composition root: database (embedded or external), migrations, secrets, services, schema
 * and the HTTP server, started in order and stopped in reverse.
 */
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { Config } from './config.js';
import { createDataSource, migrate } from './db/data-source.js';
import { parseAllowList } from './domain/outbound-url.js';
import { startEmbeddedDatabase, type EmbeddedOptions } from './db/embedded.js';
import { EventLog } from './events/event-log.js';
import { createSchema } from './graphql/schema.js';
import { announceInitialAdminPassword } from './initial-admin-password.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecretBox } from './secrets.js';
import { createHttpServer } from './server/http-server.js';
import { createServices, type Services } from './services/index.js';
import { OutboundPolicy } from './services/outbound.js';
import { defaultJobOptions, JobRunner } from './jobs/job-queue.js';
import { PROMOTION_JOB } from './services/promotions.js';
import { SYNC_ROLLOUT_JOB } from './services/gateways.js';
import { seedDemoCatalog } from './services/seed.js';
import { ControlPlaneMetrics } from './observability/control-plane-metrics.js';
import type { Observer } from './observability/observer.js';

export interface Stagecraft {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  services: Services;
  log: Logger;
  /** Where the generated admin password was saved on this (first) start; null otherwise. */
  initialAdminPasswordFile: string | null;
  /** This instance's metrics registry and tracer. */
  observer: Observer;
  /** Exports the spans still buffered (no-op when tracing is off). */
  flushTraces(): Promise<void>;
  stop(): Promise<void>;
}

export interface Database {
  url: string;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded cluster (or, with `shareRunning`, uses the one
 * a live Stagecraft process runs on the same data dir), and applies pending migrations.
 */
export async function openDatabase(config: Config, log: Logger, embeddedOptions: EmbeddedOptions = {}): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedDatabase(config.dataDir, log, 'stagecraft', embeddedOptions);
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource(url, { applicationName: `stagecraft-${config.stage}` });
  try {
    embeddedOptions.signal?.throwIfAborted();
    await dataSource.initialize();
    const applied = await migrate(dataSource);
    if (applied.length) log.info({ migrations: applied }, 'migrations applied');
  } catch (err) {
    // The database may be gone already (interrupted with us): undoing must not wait for it.
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  return {
    url,
    dataSource,
    async close() {
      try {
        await dataSource.destroy();
      } finally {
        await embedded?.stop();
      }
    },
  };
}

export interface StartOptions {
  log?: Logger;
  /**
   * Called with the generated admin password on first start; returns where it was saved, if
   * anywhere. Default: announceInitialAdminPassword (stderr and a 0600 file in the data dir).
   */
  onAdminPassword?: (password: string) => void | string | Promise<void | string>;
  /**
   * Interrupts the start (Ctrl-C or SIGTERM during start-up): noticed between steps, everything
   * started so far is stopped (the embedded PostgreSQL too), and the start rejects with the
   * signal's reason.
   */
  signal?: AbortSignal;
}

/** Database, secrets, event log and services: everything but the HTTP server. */
export async function openServices(
  config: Config,
  log: Logger,
  embeddedOptions: EmbeddedOptions = {},
): Promise<{ services: Services; databaseUrl: string; close(): Promise<void> }> {
  const secrets = await loadSecretBox(config.dataDir, config.secretKey);
  const db = await openDatabase(config, log, embeddedOptions);
  const events = new EventLog(db.url, log, { maxQueued: config.limits.subscriberQueue });
  try {
    embeddedOptions.signal?.throwIfAborted();
    await events.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    databaseUrl: db.url,
    services: createServices(db.dataSource, events, secrets, config.stage, log, {
      authLimits: config.auth,
      limits: config.limits,
      features: { importBackup: config.enableImportBackup, teamWork: config.enableTeamWork },
      outbound: new OutboundPolicy(parseAllowList(config.allowedHosts.join(','))),
    }),
    async close() {
      try {
        await events.stop();
      } finally {
        await db.close();
      }
    },
  };
}

export async function startStagecraft(config: Config, options: StartOptions = {}): Promise<Stagecraft> {
  const log = options.log ?? createLogger(config.logLevel);
  const { signal } = options;
  const opened = await openServices(config, log, { signal });
  const { services } = opened;
  // What is started is undone in reverse when a later step fails or the start is interrupted.
  const undo: (() => Promise<void> | void)[] = [() => opened.close()];
  try {
    signal?.throwIfAborted();
    const admin = await services.users.ensureAdmin(config.adminPassword);
    let initialAdminPasswordFile: string | null = null;
    if (admin?.generatedPassword) {
      const announce = options.onAdminPassword ?? ((p: string) => announceInitialAdminPassword(config.dataDir, p));
      initialAdminPasswordFile = (await announce(admin.generatedPassword)) ?? null;
    }
    signal?.throwIfAborted();
    if (config.seed) {
      const { created } = await seedDemoCatalog(services, await services.users.firstSuperAdmin());
      if (created) log.info({ created }, 'demo catalog loaded');
    }

    // Metrics always; spans when an OTLP endpoint is configured (the SDK is loaded only then,
    // and with it the context manager: without spans to parent, no request pays for carrying a
    // context through every promise — see observability/context-manager.ts).
    const tracing = config.otlpTracesUrl ? (await import('./observability/tracing-sdk.js')).startTracing(config.otlpTracesUrl, 'stagecraft', { 'stagecraft.stage': config.stage }) : null;
    if (tracing) undo.push(() => tracing.shutdown().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not export the last spans')));
    const observer: Observer = { metrics: new ControlPlaneMetrics(services.db, log), tracer: tracing?.tracer ?? null };
    services.stages.observer = observer;

    signal?.throwIfAborted();
    const jobs = new JobRunner(services.db, opened.databaseUrl, log, { ...defaultJobOptions, leaseMs: config.jobLeaseMs }, observer);
    jobs.register(PROMOTION_JOB, (job) => services.promotions.run(job), (job) => services.promotions.giveUp(job));
    jobs.register(SYNC_ROLLOUT_JOB, (job) => services.gateways.watchRollout(job), (job) => services.gateways.giveUpRollout(job));
    undo.push(async () => {
      services.gateways.stopBackgroundWork(); // rollout watches go back to the queue, unfinished
      await jobs.stop();
    });
    await jobs.start();

    signal?.throwIfAborted();
    const http = await createHttpServer(config, await createSchema(), services, log, opened.databaseUrl, observer);
    undo.push(() => http.drain());
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(config.port, config.host, () => resolve());
    });
    signal?.throwIfAborted();
    const { port } = http.server.address() as AddressInfo;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    services.outbound.setSelf(port, [config.host, host]);
    // After setSelf: the outbound rule knows this server's own address before the first check.
    services.stageStatus.start(config.stageCheckMs);
    undo.push(() => services.stageStatus.stop());
    log.info({ port, stage: config.stage }, 'stagecraft listening');

    let stopping: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      port,
      services,
      log,
      initialAdminPasswordFile,
      observer,
      flushTraces: async () => tracing?.flush(),
      stop: () =>
        (stopping ??= (async () => {
          await undoAll(undo);
          log.info('stagecraft stopped');
        })()),
    };
  } catch (err) {
    await undoAll(undo);
    throw err;
  }
}

/**
 * Runs the undo steps last-first, each even when an earlier one failed (the database may be gone
 * already: the embedded cluster must still be stopped); the first failure is rethrown at the end.
 */
async function undoAll(undo: (() => Promise<void> | void)[]): Promise<void> {
  let failure: unknown;
  for (const step of [...undo].reverse()) {
    try {
      await step();
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw failure;
}
