/**
 * Promotion benchmark: a whole 10,000-asset catalog promoted from stage dev to stage prod through
 * the `promote` mutation, followed over the `promotionProgress` subscription (graphql-ws).
 *
 * 1. Two databases on one PostgreSQL, two Stagecraft instances in-process: dev and prod. Stage
 *    `prod` is registered on dev (createStage) with prod's URL and admin credentials.
 * 2. Builds 10,000 assets on dev through the asset service (the archive benchmark's catalog:
 *    teams and groups, policies, aliases with prod variants, APIs requiring 2–3 policies and an
 *    alias with some second versions, plans, packages, applications optionally referencing APIs).
 * 3. Run 1: `promote` every asset but the 80 prod-bound alias variants (see CATALOG; optional
 *    ALL) to prod, prod empty: 10,000 assets. One graphql-ws client,
 *    connected beforehand, subscribes as soon as the mutation answers (afterSequence 0, so the
 *    stored QUEUED is replayed). Measured: wall time from sending the mutation to the COMPLETED
 *    event at the subscriber, peak memory, progress events and their delivery rate. Checked:
 *    promotion SUCCESS, 10,000 assets in prod's stage report, 10,000 assets on prod.
 * 4. Run 2: prod emptied, the same selection again (every asset CREATED: promoting unchanged
 *    content would write nothing), followed by 100 graphql-ws clients (connected and acknowledged before the
 *    mutation; a subscription needs the promotion's id, so they subscribe when it answers).
 *    Measured as run 1, plus the time until the last subscriber has COMPLETED; checked that every
 *    subscriber received every stored event of the promotion, once, in order.
 *
 * Where the time goes comes from the events' own timestamps (`at`, PostgreSQL's now(), i.e. the
 * start of the transaction that wrote the event) set against the client's receipt times.
 *
 * The subscribers run in a worker thread of this process (their own event loop, so decoding a
 * million messages is not charged to the servers' event loop); both servers run on the main
 * thread. Memory: rss (whole process: servers and subscribers), heapUsed and arrayBuffers (main
 * thread: the servers) sampled every 20 ms on the main thread, rss also from a sampler thread
 * (which keeps sampling while the main thread is busy); reported as peak minus the value just
 * before the run (after a forced GC), taken before the clients connect.
 *
 * While a run waits, a watcher on its own connection samples every second the dev server's pool
 * queue, the promotion job's lease and the events stored (a progress line every 10 s).
 *
 * Uses DATABASE_URL when set (two fresh `stagecraft_bench_<random>_*` databases, dropped at the
 * end), otherwise an embedded PostgreSQL in a temporary directory. BENCH_CPU_PROFILE=<file> writes
 * CPU profiles of the timed promotions (bench/lib.mjs; 10,000 first, then 1,000).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { startStagecraft } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/config.js';
import { createDataSource, migrate, statementCounter } from '../dist/src/db/data-source.js';
import { startEmbeddedDatabase } from '../dist/src/db/embedded.js';
import { rawKey } from '../dist/src/graphql/node-id.js';
import { createLogger } from '../dist/src/logger.js';
import { buildCatalog, catalogShape } from './catalog-builder.mjs';
import { cpuProfiler, inParallel, login, progress, range, round, withCleanup } from './lib.mjs';

export const name = 'promotion';

const ADMIN_PASSWORD = 'bench-admin-password';
const SAMPLE_MS = 20;
const SUBSCRIBERS = 100;
/**
 * A run whose subscribers have not all received COMPLETED by then fails (run 2 takes ~100 s on an
 * idle 2-CPU machine; the whole benchmark should stay within ~6 minutes).
 */
const RUN_TIMEOUT_MS = 200_000;
/** Promotion and COPY each run this many times per size, alternated. */
const REPEATS = Number(process.env.PROMOTION_REPEATS ?? 2);
/** Which ratio sizes run (PROMOTION_SIZES=1000 for the small one alone); both by default. */
const SIZES = (process.env.PROMOTION_SIZES ?? '10000,1000').split(',').map(Number);
/** The runs followed by subscribers (1, then 100) run only when asked: they take minutes. */
const FOLLOW = process.env.PROMOTION_FOLLOW === '1';

/**
 * The catalog (as bench/archive.mjs): 10 + 400 + 320 + 5,000 + 100 + 200 + 3,970 = 10,000
 * promoted assets, plus 80 prod-bound variants of the first aliases. The variants stay out of the
 * selection: they travel as the content of their unbound sibling (under its id). Selecting them
 * too would send two prod variants of one name, and prod refuses the second ("ALIAS … for stage
 * prod already exists").
 */
// 10,000 promoted; the dev catalog also holds the prod-bound alias variants.
const CATALOG = catalogShape({ countStageBound: false });

const PROMOTE = 'mutation($input: PromoteInput!) { promote(input: $input) { id status } }';
const PROGRESS = `subscription($id: ID!) {
  promotionProgress(promotionId: $id, afterSequence: 0) { sequence stageName phase message completed total at }
}`;
const PROMOTION = `query($id: ID!) {
  promotion(id: $id) { status stages { stageName status code reason importReportId startedAt finishedAt report { type name status comment } } }
}`;

export const run = () => withCleanup(benchmark);

async function benchmark(cleanup) {
  const runStarted = performance.now();
  const loadBefore = os.loadavg();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-bench-'));
  cleanup.defer('temporary directory', () => rm(tmp, { recursive: true, force: true }));
  // The embedded cluster runs as user postgres when we are root: it must reach its directory.
  await chmod(tmp, 0o755);
  const log = createLogger('warn', process.stderr);
  const sampler = await memorySampler(cleanup);

  const server = await provisionServer(tmp, log, cleanup);
  const [devDbUrl, prodDbUrl, copyDbUrl] = [await server.database('dev'), await server.database('prod'), await server.database('copy')];
  progress(`databases ready (${server.mode}): dev, prod, copy`);
  // The COPY baseline's target: the same migrations as prod, no server.
  const copyDataSource = createDataSource(copyDbUrl, { applicationName: 'stagecraft-bench-migrate' });
  await copyDataSource.initialize();
  try {
    await migrate(copyDataSource);
  } finally {
    await copyDataSource.destroy();
  }

  const startInstance = async (stage, url) => {
    const dataDir = path.join(tmp, `stagecraft-${stage}`);
    await mkdir(dataDir, { recursive: true });
    const config = loadConfig([], {
      PORT: '0',
      HOST: '127.0.0.1',
      STAGECRAFT_STAGE: stage,
      STAGECRAFT_DATA_DIR: dataDir,
      STAGECRAFT_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      // The promote mutation names all 10,000 assets (the default cap is 5,000 ids per list).
      STAGECRAFT_MAX_LIST_ITEMS: '20000',
    });
    // A hundred dashboards of one admin: lift the per-user socket cap (20 by default).
    config.auth.socketsPerUser = SUBSCRIBERS + 10;
    config.auth.subscriptionsPerUser = SUBSCRIBERS + 10;
    const app = await startStagecraft(config, { log, onAdminPassword: () => undefined });
    cleanup.defer(`stagecraft ${stage}`, () => app.stop());
    return app;
  };
  const dev = await startInstance('dev', devDbUrl);
  const prod = await startInstance('prod', prodDbUrl);
  progress(`stagecraft dev on ${dev.url}, prod on ${prod.url}`);

  const devToken = await login(dev.url, ADMIN_PASSWORD);
  const gql = graphql(dev.url, devToken);
  await gql('mutation($i: CreateStageInput!) { createStage(input: $i) { name } }', {
    i: { name: 'prod', url: prod.url, username: 'admin', password: ADMIN_PASSWORD },
  });
  const tested = (await gql('mutation { testStage(name: "prod") { ok message remoteStage } }')).testStage;
  if (!tested.ok || tested.remoteStage !== 'prod') throw new Error(`stage prod does not answer: ${tested.message}`);
  progress('stage prod registered on dev');

  const buildStarted = performance.now();
  const built = await buildCatalog(dev, CATALOG, { prefix: 'Promotion', expectedTotal: CATALOG.total + CATALOG.stageBoundAliases });
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const references = Number((await dev.services.db.query('SELECT count(*) AS n FROM asset_references'))[0].n);
  progress(`catalog built: ${built.total} assets, ${references} references in ${buildSeconds.toFixed(1)}s`);

  // Everything but the prod-bound alias variants (see CATALOG).
  const assetIds = (await dev.services.db.query(`SELECT id FROM assets WHERE type <> 'ALIAS' OR spec->>'stage' IS NULL`)).map((r) => r.id);
  const everything = await dev.services.assets.closureIds(assetIds, 'ALL');
  if (everything.length !== CATALOG.total) throw new Error(`the selection of ${assetIds.length} closes over ${everything.length} assets, expected ${CATALOG.total}`);
  // The ratio: promote N assets dev → empty prod vs COPY of the same rows between the databases,
  // alternated, REPEATS times each, at 10,000 and at 1,000 assets.
  const smallIds = await smallSelection(dev);
  const ratios = [];
  // BENCH_CPU_PROFILE: the promotions of the ratio runs (both servers run in this process).
  const profiler = cpuProfiler();
  cleanup.defer('cpu profile', () => profiler.save());
  for (const [label, ids, optional] of [
    ['promotion-10000', assetIds, 'ALL'],
    ['promotion-1000', smallIds.selection, 'NONE'],
  ]) {
    if (!SIZES.includes(Number(label.split('-')[1]))) continue;
    const moved = optional === 'ALL' ? everything : smallIds.closure;
    ratios.push(await ratioRuns(label, { gql, dev, prod, devDbUrl, copyDbUrl, selection: ids, optional, moved, profiler }));
  }
  await emptyStage(prod);

  const runs = [];
  if (!FOLLOW) {
    return summary({ runStarted, loadBefore, server, dev, built, assetIds, references, buildSeconds, runs, ratios, onProd: null });
  }
  const subscribers = await subscriberPool(`${dev.url.replace(/^http/, 'ws')}/graphql`, devToken, cleanup);

  // Run 1: into the empty prod, one subscriber.
  progress(`run 1: promote ${CATALOG.total} assets (optional ALL) dev → prod, 1 subscriber`);
  runs.push(
    await promotionRun(
      { label: 'create, 1 subscriber', gql, sampler, subscribers, count: 1, expectedStatus: 'CREATED', dbUrl: devDbUrl },
      { name: 'Bench: everything to prod', assetIds, optional: 'ALL', targetStages: ['prod'] },
      dev,
    ),
  );
  const [onProd] = await prod.services.db.query(
    `SELECT count(*)::int AS assets, count(*) FILTER (WHERE type = 'ALIAS' AND spec->>'value' LIKE '%.prod.internal:%')::int AS "prodAliases" FROM assets`,
  );
  if (onProd.assets !== CATALOG.total || onProd.prodAliases !== CATALOG.stageBoundAliases) {
    throw new Error(`prod holds ${onProd.assets} assets, ${onProd.prodAliases} with prod alias values after run 1; expected ${CATALOG.total}, ${CATALOG.stageBoundAliases}`);
  }
  progress(`run 1: prod holds ${onProd.assets} assets, ${onProd.prodAliases} aliases with their prod variant's value`);

  // Run 2: the same into an emptied prod again, 100 subscribers. (Promoting unchanged content
  // again would write nothing: every asset UNCHANGED, so not the load to follow.)
  await emptyStage(prod);
  progress(`run 2: the same promotion into an emptied prod, ${SUBSCRIBERS} subscribers`);
  runs.push(
    await promotionRun(
      { label: `create again, ${SUBSCRIBERS} subscribers`, gql, sampler, subscribers, count: SUBSCRIBERS, expectedStatus: 'CREATED', dbUrl: devDbUrl },
      { name: 'Bench: everything to prod again', assetIds, optional: 'ALL', targetStages: ['prod'], overwriteAssets: true, overwriteAliases: true },
      dev,
    ),
  );

  return summary({ runStarted, loadBefore, server, dev, built, assetIds, references, buildSeconds, runs, ratios, onProd });
}

async function summary({ runStarted, loadBefore, server, dev, built, assetIds, references, buildSeconds, runs, ratios, onProd }) {
  const postgres = (await dev.services.db.query('SHOW server_version'))[0].server_version;
  return {
    benchmark: name,
    ratios,
    date: new Date().toISOString(),
    durationSeconds: round((performance.now() - runStarted) / 1000, 1),
    environment: {
      node: process.version,
      nodeOptions: process.env.NODE_OPTIONS ?? '',
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.availableParallelism?.() ?? os.cpus().length,
      database: server.mode,
      postgres,
      // Other work on the machine skews everything here: 1-minute load average before and after.
      loadAverage: { before: round(loadBefore[0], 2), after: round(os.loadavg()[0], 2) },
    },
    catalog: {
      assets: built.total,
      promoted: CATALOG.total,
      prodBoundAliasVariants: CATALOG.stageBoundAliases,
      references,
      byType: built.byType,
      buildSeconds: round(buildSeconds, 1),
    },
    prodAfterRun1: onProd,
    runs,
    notes: [
      'wall: from sending the promote mutation to the first subscriber receiving COMPLETED (run 2: also to the last one)',
      'subscribers: graphql-ws clients connected (connection_ack) before the mutation; a subscription needs the promotion id, so they subscribe when the mutation answers, with afterSequence 0 (stored events first, then live ones)',
      'phases: from the events’ `at` (PostgreSQL now(), the start of the writing transaction: all ASSET events share one `at`) and the client’s receipt times, on the same clock',
      'subscribers: in one worker thread of this process (own event loop); both servers share the main thread',
      'memory: peak minus the value just before the run (after a forced GC, before the clients connect); rss (whole process, subscribers included) from the main thread and a sampler thread every 20 ms, heapUsed and arrayBuffers from the main thread (the servers)',
      'eventLoop: delay and utilisation of the main thread (both servers) and utilisation of the subscriber thread, over the promotion',
      'both servers, the subscribers and PostgreSQL share this 2-CPU machine',
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// One promotion, followed

/**
 * Connects `subscribers` clients (in the subscriber worker), sends the mutation, subscribes them
 * all as soon as it answers, and waits for every one of them to receive COMPLETED. Returns
 * timings, memory, statement counts and checks.
 */
async function promotionRun({ label, gql, sampler, subscribers: pool, count, expectedStatus, dbUrl }, input, dev) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const sql = traceStatements(statementCounter(dev.services.db));
  let measured;
  try {
    measured = await phase(sampler, async (mark) => {
      const connectMs = await pool.connect(count);
      mark('connected');
      loop.enable();
      sql.start();
      const elu = performance.eventLoopUtilization();

      const t0 = performance.timeOrigin + performance.now();
      const t0Wall = Date.now();
      // The API answers a global id; the bench's SQL needs the row's key (GraphQL accepts either).
      const answered = (await gql(PROMOTE, { input })).promote;
      const promotion = { ...answered, id: rawKey(answered.id) };
      const mutationMs = performance.timeOrigin + performance.now() - t0;
      const watch = await watchPromotion(dbUrl, dev, promotion.id, t0);
      let followed;
      try {
        followed = await pool.follow(promotion.id, t0, RUN_TIMEOUT_MS);
      } catch (err) {
        const state = await watch.state().catch((e) => `(state unavailable: ${e.message})`);
        throw new Error(`${label}: ${err.message}\n  state: ${JSON.stringify(state)}`);
      } finally {
        await watch.stop();
      }
      loop.disable();
      sql.stop();
      return { promotion, followed, t0Wall, connectMs, mutationMs, mainElu: performance.eventLoopUtilization(elu).utilization, watched: watch.summary() };
    });
  } finally {
    loop.disable();
    sql.restore();
    await pool.dispose();
  }
  const { promotion, followed, t0Wall, connectMs, mutationMs, mainElu, watched } = measured.value;
  const subs = followed.subs;

  // Checks, outside the timed part: the promotion's outcome, prod's report, every subscriber's events.
  const details = (await gql(PROMOTION, { id: promotion.id })).promotion;
  const stage = details.stages.find((s) => s.stageName === 'prod');
  const reportStatuses = countBy(stage?.report ?? [], (a) => a.status);
  if (details.status !== 'SUCCESS' || stage?.status !== 'SUCCESS' || stage.report.length !== CATALOG.total) {
    const failed = (stage?.report ?? []).filter((a) => a.status === 'FAILURE').slice(0, 3);
    throw new Error(
      `${label}: promotion ${details.status}, stage prod ${stage?.status} (${stage?.code}: ${stage?.reason}) with ${stage?.report.length} assets ${JSON.stringify(reportStatuses)}; ` +
        `first failures: ${JSON.stringify(failed)}`,
    );
  }
  if (reportStatuses[expectedStatus] !== CATALOG.total) {
    throw new Error(`${label}: prod's report has ${JSON.stringify(reportStatuses)}, expected ${CATALOG.total} ${expectedStatus}`);
  }
  const [stored] = await dev.services.db.query(
    `SELECT count(*)::int AS n, coalesce(sum(sequence), 0)::text AS sum, max(sequence)::text AS last FROM events WHERE stream = $1`,
    [`promotion:${promotion.id}`],
  );
  const complete = subs.filter((s) => s.count === stored.n && s.sequenceSum === stored.sum && s.ordered && String(s.lastSequence) === stored.last);

  // The timeline: the events' own timestamps and the first subscriber's receipt times, ms after the mutation was sent.
  const events = followed.events;
  const at = (phaseName, which = 'first') => {
    const list = events.filter((e) => e.phase === phaseName);
    const e = which === 'first' ? list[0] : list.at(-1);
    return e ? { at: round(Date.parse(e.at) - t0Wall, 0), received: round(e.receivedMs, 0) } : null;
  };
  const timeline = {
    QUEUED: at('QUEUED'),
    STARTED: at('STARTED'),
    EXPORTED: at('EXPORTED'),
    TRANSFERRED: at('TRANSFERRED'),
    firstASSET: at('ASSET', 'first'),
    lastASSET: at('ASSET', 'last'),
    SUCCEEDED: at('SUCCEEDED'),
    COMPLETED: at('COMPLETED'),
  };
  const received = subs.map((s) => s.completedMs).sort((a, b) => a - b);
  const firstAssetAnywhere = Math.min(...subs.map((s) => s.firstAssetMs));
  // The ASSET transaction's commit: when the first subscriber saw an ASSET event, or when the
  // SUCCEEDED transaction (which follows it at once) started, whichever is earlier.
  const assetCommit = Math.min(firstAssetAnywhere, timeline.SUCCEEDED?.at ?? Infinity);
  const span = (from, to) => (from != null && to != null && Number.isFinite(from) && Number.isFinite(to) ? round((to - from) / 1000, 3) : null);
  const breakdown = {
    queueSeconds: span(0, timeline.STARTED?.at),
    exportSeconds: span(timeline.STARTED?.at, timeline.EXPORTED?.at),
    transferImportSeconds: span(timeline.EXPORTED?.at, timeline.TRANSFERRED?.at),
    // 10,000 ASSET events (3 statements each) in one transaction, from its start to its commit.
    assetEventsWriteSeconds: span(timeline.firstASSET?.at, assetCommit),
    // After that commit: the per-asset report stored on the promotion stage, re-read, COMPLETED.
    finishSeconds: span(assetCommit, timeline.COMPLETED?.at),
    // From COMPLETED's transaction start until the first subscriber had it (overlaps the fan-out
    // of the ASSET events, which starts at the ASSET commit).
    deliverySeconds: span(timeline.COMPLETED?.at, received[0]),
    // From the ASSET commit until the last subscriber had COMPLETED: the fan-out of the burst.
    fanOutSeconds: span(assetCommit, received.at(-1)),
  };
  const first = subs[0];
  const burst = (s) => s.completedMs - s.firstAssetMs; // first ASSET … COMPLETED at one subscriber
  const burstEvents = (s) => s.count - s.beforeAssets;
  const lastBurstEnd = Math.max(...subs.map((s) => s.completedMs));

  const result = {
    label,
    promotionId: promotion.id,
    input: { assets: input.assetIds.length, optional: input.optional, overwriteAssets: Boolean(input.overwriteAssets), overwriteAliases: Boolean(input.overwriteAliases) },
    subscribers: count,
    connectSeconds: round(connectMs / 1000, 3),
    mutationMs: round(mutationMs, 1),
    wallSeconds: round(received[0] / 1000, 3),
    lastSubscriberSeconds: round(received.at(-1) / 1000, 3),
    events: {
      stored: stored.n,
      perSubscriber: first.count,
      byPhase: countBy(events, (e) => e.phase),
      // Over the whole promotion, as a subscriber sees it.
      perSecondOverall: round(first.count / (first.completedMs / 1000), 0),
      // The burst after the ASSET transaction commits: first ASSET to COMPLETED, at one subscriber.
      burstSeconds: round(burst(first) / 1000, 3),
      perSecondBurst: round(burstEvents(first) / (burst(first) / 1000), 0),
      // All subscribers together: from the first ASSET anywhere to the last COMPLETED.
      allSubscribersDelivered: subs.reduce((sum, s) => sum + s.count, 0),
      allSubscribersBurstSeconds: round((lastBurstEnd - firstAssetAnywhere) / 1000, 3),
      allSubscribersPerSecondBurst: round(subs.reduce((sum, s) => sum + burstEvents(s), 0) / ((lastBurstEnd - firstAssetAnywhere) / 1000), 0),
      subscribersWithEveryEvent: complete.length,
      countsSeen: countBy(subs, (s) => s.count),
      subscribedMs: { min: round(Math.min(...subs.map((s) => s.firstEventMs)), 0), max: round(Math.max(...subs.map((s) => s.firstEventMs)), 0) },
    },
    timeline,
    breakdown,
    sql: { dev: sql.total, eventReads: sql.eventReads },
    watched,
    memory: { ...measured.memory, afterConnect: measured.marks.connected },
    eventLoop: {
      serverDelayMs: { p50: round(loop.percentile(50) / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
      serverUtilisation: round(mainElu, 3),
      subscriberUtilisation: round(followed.elu, 3),
    },
    verification: {
      promotionStatus: details.status,
      stageStatus: stage.status,
      reportAssets: stage.report.length,
      reportStatuses,
      importReportId: stage.importReportId,
    },
  };
  progress(
    `  ${label}: COMPLETED after ${result.wallSeconds}s (last subscriber ${result.lastSubscriberSeconds}s), ` +
      `${first.count} events, export ${breakdown.exportSeconds}s, transfer+import ${breakdown.transferImportSeconds}s, ` +
      `ASSET events ${breakdown.assetEventsWriteSeconds}s, rss +${mb(measured.memory.rss.delta)} MB, ` +
      `${complete.length}/${count} subscribers got all ${stored.n} events`,
  );
  if (complete.length !== count) {
    result.verification.incomplete = subs
      .filter((s) => !complete.includes(s))
      .slice(0, 5)
      .map((s) => ({ count: s.count, ordered: s.ordered, lastSequence: String(s.lastSequence) }));
  }
  return result;
}

/**
 * Watches a running promotion from outside the server (its own connection, not the server's
 * pool): every second the server pool's queue, the job's lease and attempts, and the events
 * stored; a progress line every 10 s. `state()` describes where things stand (for a timeout).
 */
async function watchPromotion(dbUrl, app, promotionId, t0) {
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'stagecraft-bench-watch' });
  await client.connect();
  const pool = app.services.db.driver.master;
  const stream = `promotion:${promotionId}`;
  const samples = [];
  let elu = performance.eventLoopUtilization();
  const state = async () => {
    const [job] = (
      await client.query(
        `SELECT status, attempts, (extract(epoch FROM locked_until - now()) * 1000)::int AS "leaseLeftMs" FROM jobs WHERE payload->>'promotionId' = $1`,
        [promotionId],
      )
    ).rows;
    const phases = (await client.query('SELECT type, count(*)::int AS n FROM events WHERE stream = $1 GROUP BY type', [stream])).rows;
    const stages = (await client.query('SELECT stage_name, status, code, reason FROM promotion_stages WHERE promotion_id = $1', [promotionId])).rows;
    return { job, events: Object.fromEntries(phases.map((p) => [p.type, p.n])), stages, pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } };
  };
  let busy = false;
  let ticks = 0;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const s = await state();
      const now = performance.eventLoopUtilization();
      const sample = {
        ms: Math.round(performance.timeOrigin + performance.now() - t0),
        poolWaiting: s.pool.waiting,
        leaseLeftMs: s.job?.leaseLeftMs ?? null,
        attempts: s.job?.attempts ?? null,
        events: Object.values(s.events).reduce((a, b) => a + b, 0),
        serverBusy: round(performance.eventLoopUtilization(now, elu).utilization, 2),
      };
      elu = now;
      samples.push(sample);
      if (++ticks % 10 === 0) {
        progress(`    ${(sample.ms / 1000).toFixed(0)}s: ${sample.events} events stored, server pool queue ${sample.poolWaiting}, job lease ${sample.leaseLeftMs} ms left (attempt ${sample.attempts}), server thread ${Math.round(100 * sample.serverBusy)}% busy`);
      }
    } catch {
      /* the next tick tries again */
    } finally {
      busy = false;
    }
  }, 1000);
  return {
    state,
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 10));
      await client.end();
    },
    summary: () => ({
      samples: samples.length,
      maxPoolWaiting: Math.max(0, ...samples.map((x) => x.poolWaiting)),
      minLeaseLeftMs: samples.some((x) => x.leaseLeftMs !== null) ? Math.min(...samples.filter((x) => x.leaseLeftMs !== null).map((x) => x.leaseLeftMs)) : null,
      maxAttempts: Math.max(0, ...samples.map((x) => x.attempts ?? 0)),
      series: samples,
    }),
  };
}

/** Counts the statements a data source sends while tracing, and among them the reads of events. */
function traceStatements(counter) {
  const original = counter.logQuery;
  const trace = { total: 0, eventReads: 0, active: false };
  counter.logQuery = function (query, parameters) {
    original.call(this, query, parameters);
    if (!trace.active) return;
    trace.total++;
    if (/^\s*SELECT\b/i.test(query) && /\bFROM\s+"?events"?/i.test(query)) trace.eventReads++;
  };
  trace.start = () => {
    trace.total = trace.eventReads = 0;
    trace.active = true;
  };
  trace.stop = () => {
    trace.active = false;
  };
  trace.restore = () => {
    counter.logQuery = original;
  };
  return trace;
}

// ---------------------------------------------------------------------------------------------
// Subscribers

/**
 * The graphql-ws clients live in a worker thread: decoding a million messages would otherwise
 * share the servers' event loop and be counted as the servers' delivery time. Times are absolute
 * (performance.timeOrigin + now()), so they compare across threads. ESM from a data: URL, with
 * the two packages' resolved file URLs spliced in.
 */
const SUBSCRIBER_WORKER = `
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { createClient } from '%GRAPHQL_WS%';
import WebSocket from '%WS%';

const PROGRESS = %PROGRESS%;
const now = () => performance.timeOrigin + performance.now();
let clients = [];

function connect(url, token) {
  return new Promise((resolve, reject) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: 'Bearer ' + token },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: (err) => reject(err instanceof Error ? err : new Error('graphql-ws connection failed: ' + JSON.stringify(err?.code ?? err))),
      on: { connected: () => resolve(client) },
    });
    clients.push(client);
  });
}

function follow(client, promotionId, t0, keep) {
  const s = { count: 0, beforeAssets: 0, sequenceSum: 0n, lastSequence: 0, ordered: true, firstEventMs: null, firstAssetMs: null, completedMs: null };
  const events = [];
  let unsubscribe;
  const done = new Promise((resolve, reject) => {
    s.abort = (err) => { unsubscribe?.(); reject(err); };
    unsubscribe = client.subscribe({ query: PROGRESS, variables: { id: promotionId } }, {
      next: (result) => {
        const t = now() - t0;
        if (result.errors?.length) return s.abort(new Error('subscription error: ' + JSON.stringify(result.errors).slice(0, 300)));
        const e = result.data.promotionProgress;
        s.firstEventMs ??= t;
        if (e.sequence <= s.lastSequence) s.ordered = false;
        s.lastSequence = e.sequence;
        s.sequenceSum += BigInt(e.sequence);
        s.count++;
        if (e.phase === 'ASSET') s.firstAssetMs ??= t;
        else if (s.firstAssetMs === null) s.beforeAssets++;
        if (e.phase === 'COMPLETED') s.completedMs = t;
        if (keep) events.push({ phase: e.phase, at: e.at, receivedMs: t });
      },
      error: (err) => reject(err instanceof Error ? err : new Error('subscription failed: ' + JSON.stringify(err?.code ?? err?.reason ?? err))),
      complete: () => (s.completedMs === null ? reject(new Error('subscription ended after ' + s.count + ' events without COMPLETED')) : resolve()),
    });
  });
  return { s, events, done };
}

parentPort.on('message', async (m) => {
  try {
    if (m.op === 'connect') {
      const t = now();
      // Ten at a time, as a crowd of dashboards would open.
      for (let i = 0; i < m.count; i += 10) {
        await Promise.all(Array.from({ length: Math.min(10, m.count - i) }, () => connect(m.url, m.token)));
      }
      parentPort.postMessage({ op: 'connected', ms: now() - t });
    } else if (m.op === 'follow') {
      const elu = performance.eventLoopUtilization();
      const subs = clients.map((c, i) => follow(c, m.promotionId, m.t0, i === 0));
      const timer = setTimeout(() => {
        const counts = subs.map((x) => x.s.count);
        const finished = subs.filter((x) => x.s.completedMs !== null).length;
        const why = new Error('no COMPLETED within ' + m.timeoutMs / 1000 + 's: ' + finished + '/' + subs.length + ' subscribers finished, ' +
          'events received per subscriber min ' + Math.min(...counts) + ', max ' + Math.max(...counts) + ', total ' + counts.reduce((a, b) => a + b, 0));
        subs.forEach((x) => x.s.abort(why));
      }, m.timeoutMs);
      try {
        await Promise.all(subs.map((x) => x.done));
      } finally {
        clearTimeout(timer);
      }
      parentPort.postMessage({
        op: 'followed',
        elu: performance.eventLoopUtilization(elu).utilization,
        events: subs[0].events,
        subs: subs.map(({ s }) => ({ ...s, abort: undefined, sequenceSum: String(s.sequenceSum) })),
      });
    } else if (m.op === 'dispose') {
      const all = clients;
      clients = [];
      await Promise.all(all.map((c) => c.dispose()));
      parentPort.postMessage({ op: 'disposed' });
    }
  } catch (err) {
    parentPort.postMessage({ op: 'error', message: err?.message ?? (err?.code ? 'socket closed ' + err.code + ' ' + err.reason : JSON.stringify(err)) });
  }
});
`;

async function subscriberPool(wsUrl, token, cleanup) {
  const code = SUBSCRIBER_WORKER.replace('%GRAPHQL_WS%', import.meta.resolve('graphql-ws'))
    .replace('%WS%', import.meta.resolve('ws'))
    .replace('%PROGRESS%', JSON.stringify(PROGRESS));
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { name: 'promotion-subscribers' });
  let failure;
  worker.on('error', (err) => (failure = err));
  cleanup.defer('subscriber worker', async () => {
    await ask({ op: 'dispose' }).catch(() => undefined);
    await worker.terminate();
  });
  async function ask(message) {
    if (failure) throw failure;
    const reply = new Promise((resolve, reject) => {
      const onMessage = (m) => {
        worker.off('error', onError);
        if (m.op === 'error') reject(new Error(`subscriber worker: ${m.message}`));
        else resolve(m);
      };
      const onError = (err) => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
    worker.postMessage(message);
    return reply;
  }
  return {
    connect: async (count) => (await ask({ op: 'connect', url: wsUrl, token, count })).ms,
    follow: (promotionId, t0, timeoutMs) => ask({ op: 'follow', promotionId, t0, timeoutMs }),
    dispose: () => ask({ op: 'dispose' }),
  };
}

// ---------------------------------------------------------------------------------------------
// Promotion vs COPY

/**
 * 1,000 assets with dependencies: every policy and unbound alias and enough APIs (each requiring
 * 2–3 policies and an alias) to make 1,000, optional NONE; checked against the closure.
 */
async function smallSelection(dev) {
  const rows = await dev.services.db.query(
    `SELECT id, type FROM assets WHERE type IN ('POLICY', 'API') OR (type = 'ALIAS' AND spec->>'stage' IS NULL) ORDER BY type DESC, name, id`,
  );
  const base = rows.filter((r) => r.type !== 'API').map((r) => r.id);
  const apis = rows.filter((r) => r.type === 'API').map((r) => r.id);
  const selection = [...base, ...apis.slice(0, 1000 - base.length)];
  const closure = await dev.services.assets.closureIds(selection, 'NONE');
  if (closure.length !== 1000) throw new Error(`the 1,000-asset selection closes over ${closure.length} assets`);
  return { selection, closure };
}

/** Everything an import writes on prod, gone (outside the timed part), so each run creates. */
async function emptyStage(app) {
  await app.services.db.query('TRUNCATE assets, asset_references, rollbacks, import_reports CASCADE');
}

/** Promotion and COPY, alternated, REPEATS times each: seconds and the ratio range. */
async function ratioRuns(label, { gql, dev, prod, devDbUrl, copyDbUrl, selection, optional, moved, profiler }) {
  const product = [];
  const baseline = [];
  const phases = [];
  // Warm both sides once, untimed: the first promotion of a size pays for JIT compilation and
  // cold caches that a COPY (no JavaScript on its path) does not.
  await emptyStage(prod);
  await timedPromotion(gql, dev, { name: `Bench ${label} warm-up`, assetIds: selection, optional, targetStages: ['prod'] }, devDbUrl);
  await copyRows(devDbUrl, copyDbUrl, moved);
  for (let i = 0; i < REPEATS; i++) {
    await emptyStage(prod);
    const { seconds, id, t0Wall } = await profiler.profiled(() => timedPromotion(gql, dev, { name: `Bench ${label} #${i + 1}`, assetIds: selection, optional, targetStages: ['prod'] }, devDbUrl));
    phases.push(await phasesOf(dev, id, t0Wall, seconds));
    const [{ n }] = await prod.services.db.query('SELECT count(*)::int AS n FROM assets');
    if (n !== moved.length) throw new Error(`${label}: prod holds ${n} assets after the promotion, expected ${moved.length}`);
    product.push(seconds);
    const copied = await copyRows(devDbUrl, copyDbUrl, moved);
    if (copied.assets !== moved.length) throw new Error(`${label}: COPY moved ${copied.assets} assets, expected ${moved.length}`);
    baseline.push(copied.seconds);
    progress(`${label} #${i + 1}: promotion ${seconds.toFixed(2)} s ${JSON.stringify(phases.at(-1))}, COPY ${copied.seconds.toFixed(2)} s (${copied.references} references)`);
  }
  const ratios = product.map((p, i) => p / baseline[i]);
  return { label, assets: moved.length, repeats: REPEATS, phases, promotionSeconds: product.map((v) => round(v, 3)), copySeconds: baseline.map((v) => round(v, 3)), ratios: ratios.map((v) => round(v, 2)) };
}

/**
 * Where a promotion's time went, from its progress events' wall-clock times (created_at):
 * queued (mutation → STARTED), export (→ EXPORTED), transfer and the target's import
 * (→ TRANSFERRED), per-asset progress events and the stage report (→ SUCCEEDED), the rest.
 */
async function phasesOf(dev, id, t0Wall, seconds) {
  const rows = await dev.services.db.query(`SELECT type, min(created_at) AS at FROM events WHERE stream = $1 GROUP BY type`, [`promotion:${id}`]);
  const at = Object.fromEntries(rows.map((r) => [r.type, new Date(r.at).getTime() - t0Wall]));
  const span = (a, b) => (a == null || b == null ? null : round((b - a) / 1000, 2));
  return {
    queued: span(0, at.STARTED),
    export: span(at.STARTED, at.EXPORTED),
    transferImport: span(at.EXPORTED, at.TRANSFERRED),
    progressAndReport: span(at.TRANSFERRED, at.SUCCEEDED),
    rest: span(at.SUCCEEDED, seconds * 1000),
  };
}

/** From sending `promote` until the promotion is finished (its row polled every 20 ms on dev). */
async function timedPromotion(gql, dev, input, devDbUrl) {
  // The end is when the promotion's last write commits: its events' NOTIFY (the product's own
  // channel) arrives on a listening connection at that moment. (Polling every 20 ms added up to
  // 20 ms to a 0.2 s promotion.) A slow poll stays as a safety net for a lost notification.
  const listener = new pg.Client({ connectionString: devDbUrl, application_name: 'stagecraft-bench-listen' });
  await listener.connect();
  try {
    await listener.query('LISTEN stagecraft_events');
    let wake = () => undefined;
    listener.on('notification', () => wake());
    const t0Wall = Date.now();
    const t0 = performance.now();
    const id = rawKey((await gql(PROMOTE, { input })).promote.id);
    for (;;) {
      const woken = new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
      const seen = performance.now();
      const [row] = await dev.services.db.query('SELECT status FROM promotions WHERE id = $1', [id]);
      if (row.status === 'SUCCESS') return { seconds: (seen - t0) / 1000, id, t0Wall };
      if (row.status === 'FAILURE') {
        const stages = await dev.services.db.query('SELECT stage_name, code, reason FROM promotion_stages WHERE promotion_id = $1', [id]);
        throw new Error(`promotion ${input.name} failed: ${JSON.stringify(stages)}`);
      }
      if (performance.now() - t0 > RUN_TIMEOUT_MS) throw new Error(`promotion ${input.name} still ${row.status} after ${RUN_TIMEOUT_MS} ms`);
      await woken;
    }
  } finally {
    await listener.end();
  }
}

/**
 * The baseline: the same asset rows and their references, `COPY … TO STDOUT` from dev piped into
 * `COPY … FROM STDIN` on the copy database (emptied first), in one transaction there; the
 * connections are opened inside the timed part, as the promotion opens its own.
 */
async function copyRows(fromUrl, toUrl, ids) {
  const empty = new pg.Client({ connectionString: toUrl });
  await empty.connect();
  await empty.query('TRUNCATE assets, asset_references CASCADE');
  await empty.end();
  const t0 = performance.now();
  const from = new pg.Client({ connectionString: fromUrl, application_name: 'stagecraft-bench-copy' });
  const to = new pg.Client({ connectionString: toUrl, application_name: 'stagecraft-bench-copy' });
  await Promise.all([from.connect(), to.connect()]);
  try {
    const list = `'{${ids.join(',')}}'::uuid[]`;
    await to.query('BEGIN');
    await pipeline(from.query(copyStreams.to(`COPY (SELECT * FROM assets WHERE id = ANY(${list})) TO STDOUT`)), to.query(copyStreams.from('COPY assets FROM STDIN')));
    await pipeline(
      from.query(copyStreams.to(`COPY (SELECT * FROM asset_references WHERE from_id = ANY(${list}) AND to_id = ANY(${list})) TO STDOUT`)),
      to.query(copyStreams.from('COPY asset_references FROM STDIN')),
    );
    await to.query('COMMIT');
    const seconds = (performance.now() - t0) / 1000;
    const [{ rows: [a] }, { rows: [r] }] = [await to.query('SELECT count(*)::int AS n FROM assets'), await to.query('SELECT count(*)::int AS n FROM asset_references')];
    return { seconds, assets: a.n, references: r.n };
  } finally {
    await Promise.all([from.end(), to.end()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Databases (as bench/archive.mjs)

/** A PostgreSQL server to create the databases on: DATABASE_URL's when set, else an embedded one. */
async function provisionServer(tmp, log, cleanup) {
  const prefix = `stagecraft_bench_${randomBytes(6).toString('hex')}`;
  const external = process.env.DATABASE_URL;
  const withAdmin = async (adminUrl, sql) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  const urlOf = (base, db) => {
    const url = new URL(base);
    url.pathname = `/${db}`;
    return url.toString();
  };
  if (external) {
    return {
      mode: 'external',
      async database(role) {
        const db = `${prefix}_${role}`;
        await withAdmin(external, `CREATE DATABASE "${db}"`);
        cleanup.defer(`database ${db}`, () => withAdmin(external, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`));
        return urlOf(external, db);
      },
    };
  }
  progress('starting embedded PostgreSQL');
  let embedded;
  return {
    mode: 'embedded',
    async database(role) {
      const db = `${prefix}_${role}`;
      if (!embedded) {
        embedded = await startEmbeddedDatabase(path.join(tmp, 'postgres'), log, db);
        cleanup.defer('embedded PostgreSQL', () => embedded.stop());
        return embedded.url;
      }
      await withAdmin(embedded.adminUrl, `CREATE DATABASE "${db}"`);
      return urlOf(embedded.adminUrl, db);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The catalog (as bench/archive.mjs)


// ---------------------------------------------------------------------------------------------
// HTTP


/** POST /graphql signed in; the data, or an error naming the first GraphQL error. */
function graphql(baseUrl, token) {
  return async (query, variables = {}) => {
    const res = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (res.status !== 200 || body.errors?.length || !body.data) {
      throw new Error(`GraphQL request failed (HTTP ${res.status}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
    }
    return body.data;
  };
}

// ---------------------------------------------------------------------------------------------
// Memory (as bench/archive.mjs)

let forceGc;
try {
  v8.setFlagsFromString('--expose-gc');
  forceGc = vm.runInNewContext('gc');
} catch {
  forceGc = undefined;
}

/**
 * A worker thread sampling the process's rss every SAMPLE_MS: unlike a timer on the main thread,
 * it keeps sampling while the main thread (the servers) is busy.
 */
async function memorySampler(cleanup) {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let peak = 0, timer;
     parentPort.on('message', (m) => {
       if (m === 'start') {
         peak = process.memoryUsage.rss();
         clearInterval(timer);
         timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, ${SAMPLE_MS});
         parentPort.postMessage({ started: true });
       } else if (m === 'stop') {
         clearInterval(timer);
         peak = Math.max(peak, process.memoryUsage.rss());
         parentPort.postMessage({ peak });
       }
     });`,
    { eval: true },
  );
  worker.unref();
  cleanup.defer('memory sampler', () => worker.terminate());
  const ask = async (message) => {
    const reply = once(worker, 'message');
    worker.postMessage(message);
    return (await reply)[0];
  };
  return { start: () => ask('start'), stop: async () => (await ask('stop')).peak };
}

/**
 * Runs `fn(mark)` as one measured phase: peak memory over the value just before it. `mark(name)`
 * records the memory at a point inside (reported as the delta over the baseline).
 */
async function phase(sampler, fn) {
  forceGc?.();
  forceGc?.();
  await new Promise((resolve) => setImmediate(resolve));
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heapUsed: before.heapUsed, arrayBuffers: before.arrayBuffers };
  const marks = {};
  let samples = 0;
  let maxGap = 0;
  let last = performance.now();
  const sample = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    samples++;
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
    return m;
  };
  const mark = (label) => {
    const m = sample();
    marks[label] = { rss: m.rss - before.rss, heapUsed: m.heapUsed - before.heapUsed };
  };
  await sampler.start();
  const timer = setInterval(sample, SAMPLE_MS);
  let value;
  try {
    value = await fn(mark);
  } finally {
    clearInterval(timer);
  }
  sample();
  const workerRssPeak = await sampler.stop();
  peak.rss = Math.max(peak.rss, workerRssPeak);
  const entry = (key) => ({ before: before[key], peak: peak[key], delta: peak[key] - before[key] });
  return {
    value,
    marks,
    memory: {
      rss: entry('rss'),
      heapUsed: entry('heapUsed'),
      arrayBuffers: entry('arrayBuffers'),
      samples,
      maxSampleGapMs: round(maxGap, 1),
      gcBefore: Boolean(forceGc),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

export function report(r) {
  const range = (values, digits = 2) => {
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    return lo.toFixed(digits) === hi.toFixed(digits) ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
  };
  const ratioLines = r.ratios.map(
    (x) =>
      `${x.label}: ratio ${range(x.ratios, 1)}, median ${median(x.ratios).toFixed(1)} (promotion ${range(x.promotionSeconds)} s vs COPY ${range(x.copySeconds)} s; ${x.assets.toLocaleString('en')} assets, ${x.repeats} runs each, alternated)`,
  );
  const phaseLines = r.ratios.flatMap((x) =>
    x.phases.map((p, i) => `  ${x.label} #${i + 1}: ${x.promotionSeconds[i]} s = ${Object.entries(p).map(([k, v]) => `${k} ${v ?? '—'}`).join(', ')} (s)`),
  );
  if (!r.runs.length) {
    return [
      `promotion: promote dev → empty prod (mutation → promotion SUCCESS) vs COPY of the same asset and reference rows between the two databases`,
      `  PostgreSQL ${r.environment.postgres} (${r.environment.database}), Node ${r.environment.node}${r.environment.nodeOptions ? ` (NODE_OPTIONS ${r.environment.nodeOptions})` : ""}, ${r.environment.cpus} CPUs; load average ${r.environment.loadAverage.before} before, ${r.environment.loadAverage.after} after`,
      `  (PROMOTION_FOLLOW=1 adds the runs followed by 1 and 100 graphql-ws subscribers)`,
      '',
      '  where the promotion time went, from its progress events\' wall-clock times:',
      ...phaseLines,
      '',
      ...ratioLines,
      '',
    ].join('\n');
  }
  return `${runReport(r)}\n${ratioLines.join('\n')}\n`;
}

function runReport(r) {
  const runs = r.runs;
  const row = (label, cells) => `${label.padEnd(38)}${cells.map((c) => String(c ?? '—').padStart(34)).join('')}`;
  const cells = (fn) => runs.map(fn);
  const sec = (v) => (v == null ? '—' : `${v.toFixed(2)} s`);
  const part = (run, key) => (run.breakdown[key] == null ? '—' : `${run.breakdown[key].toFixed(2)} s (${Math.round((100 * run.breakdown[key]) / run.wallSeconds)}%)`);
  const t = (run, key) => run.timeline[key];
  const lines = [
    `promotion: ${r.catalog.promoted.toLocaleString('en')} assets promoted dev → prod (optional ALL) through promote + promotionProgress over graphql-ws`,
    `  dev holds ${r.catalog.assets.toLocaleString('en')} assets (${r.catalog.references.toLocaleString('en')} references): the ${r.catalog.prodBoundAliasVariants} prod-bound alias variants are not selected, they travel as their unbound siblings' content`,
    `  PostgreSQL ${r.environment.postgres} (${r.environment.database}), Node ${r.environment.node}${r.environment.nodeOptions ? ` (NODE_OPTIONS ${r.environment.nodeOptions})` : ""}, ${r.environment.cpus} CPUs; catalog built in ${r.catalog.buildSeconds}s; whole benchmark ${r.durationSeconds}s; load average ${r.environment.loadAverage.before} before, ${r.environment.loadAverage.after} after`,
    '',
    row('', cells((run, i) => `run ${i + 1}: ${run.label}`)),
    row('promote mutation answered after', cells((run) => `${run.mutationMs} ms`)),
    row('wall: mutation → COMPLETED', cells((run) => sec(run.wallSeconds))),
    row('  … at the last subscriber', cells((run) => sec(run.lastSubscriberSeconds))),
    row('  queued (mutation → STARTED)', cells((run) => part(run, 'queueSeconds'))),
    row('  export (STARTED → EXPORTED)', cells((run) => part(run, 'exportSeconds'))),
    row('  transfer + import (→ TRANSFERRED)', cells((run) => part(run, 'transferImportSeconds'))),
    row('  ASSET events written (1 tx)', cells((run) => part(run, 'assetEventsWriteSeconds'))),
    row('  report stored → COMPLETED written', cells((run) => part(run, 'finishSeconds'))),
    row('  COMPLETED written → received', cells((run) => part(run, 'deliverySeconds'))),
    row('fan-out: ASSET commit → last COMPL.', cells((run) => sec(run.breakdown.fanOutSeconds))),
    row('progress events per subscriber', cells((run) => `${run.events.perSubscriber} (${run.events.stored} stored)`)),
    row('events/s over the promotion', cells((run) => run.events.perSecondOverall)),
    row('events/s in the burst, 1 subscriber', cells((run) => `${run.events.perSecondBurst} (${run.events.burstSeconds} s)`)),
    row('events/s in the burst, all', cells((run) => `${run.events.allSubscribersPerSecondBurst} (${run.events.allSubscribersDelivered} events)`)),
    row('subscribers with every event', cells((run) => `${run.events.subscribersWithEveryEvent}/${run.subscribers}`)),
    row('peak rss over baseline', cells((run) => `+${mb(run.memory.rss.delta)} MB`)),
    row('peak heapUsed over baseline (servers)', cells((run) => `+${mb(run.memory.heapUsed.delta)} MB`)),
    row('rss change once clients connected', cells((run) => `${mb(run.memory.afterConnect.rss)} MB (${run.connectSeconds} s)`)),
    row('SQL on dev (reads of events)', cells((run) => `${run.sql.dev} (${run.sql.eventReads})`)),
    row('dev pool queue max, job lease min', cells((run) => `${run.watched.maxPoolWaiting}, ${run.watched.minLeaseLeftMs ?? '—'} ms`)),
    row('server event loop: busy, delay p99/max', cells((run) => `${Math.round(100 * run.eventLoop.serverUtilisation)}%, ${run.eventLoop.serverDelayMs.p99}/${run.eventLoop.serverDelayMs.max} ms`)),
    row('subscriber thread busy', cells((run) => `${Math.round(100 * run.eventLoop.subscriberUtilisation)}%`)),
    row('prod stage report', cells((run) => `${run.verification.stageStatus}: ${Object.entries(run.verification.reportStatuses).map(([k, v]) => `${v} ${k}`).join(', ')}`)),
    '',
    '  timeline, ms after the mutation was sent: the event\'s `at` (server) → received (first subscriber)',
    ...['QUEUED', 'STARTED', 'EXPORTED', 'TRANSFERRED', 'firstASSET', 'lastASSET', 'SUCCEEDED', 'COMPLETED'].map((key) =>
      row(`    ${key}`, cells((run) => (t(run, key) ? `${t(run, key).at} → ${t(run, key).received}` : '—'))),
    ),
    '',
    '  `at` is PostgreSQL now(): the start of the writing transaction, so all ASSET events carry one `at`. They are',
    '  written in one transaction after the import answered; subscribers see none of them until it commits, then all.',
    '  "ASSET events written" ends at that commit (first ASSET received, or SUCCEEDED\'s start if earlier).',
    ...runs.slice(1).map((run) =>
      [
        `  ${run.label}: ${run.events.allSubscribersDelivered.toLocaleString('en')} events delivered in ${run.breakdown.fanOutSeconds} s after the ASSET commit, server thread ${Math.round(100 * run.eventLoop.serverUtilisation)}% busy,`,
        `  subscriber thread ${Math.round(100 * run.eventLoop.subscriberUtilisation)}%: each subscriber reads the stream itself (${run.sql.eventReads} reads of events through the server's pool, queue up to ${run.watched.maxPoolWaiting}),`,
        `  and the job's own statements wait behind them (report stored → COMPLETED written: ${runs[0].breakdown.finishSeconds} s in run 1, ${run.breakdown.finishSeconds} s here).`,
      ].join('\n'),
    ),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Helpers

const mb = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
const countBy = (items, key) => {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
