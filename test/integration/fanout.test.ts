/**
 * Fan-out from memory (issue 12): one reader per stream per process on the event log's own
 * connections, replay that joins the live feed exactly once, slow consumers dropped without
 * holding the others back, frames built once per event, and batched ASSET progress.
 */
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { appendEvent, EventLog, type StoredEvent } from '../../src/events/event-log.js';
import { createLogger } from '../../src/logger.js';
import { frameStats } from '../../src/server/shared-frames.js';
import { sql } from '../support/database.js';
import { promoteAndWait, registerStage } from '../support/promotion.js';
import { startTestServer, take, type TestServer } from '../support/server.js';

const BUFFER_BYTES = 64 * 1024;
let server: TestServer;
let qa: TestServer;

beforeAll(async () => {
  [server, qa] = await Promise.all([
    startTestServer({ env: { STAGECRAFT_STAGE: 'dev', STAGECRAFT_SUBSCRIBER_BUFFER_BYTES: String(BUFFER_BYTES) } }),
    startTestServer({ env: { STAGECRAFT_STAGE: 'qa' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), qa?.stop()]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** `count` events on `stream`, in one transaction (one NOTIFY batch). */
function append(stream: string, count: number, payload: (i: number) => Record<string, unknown> = (i) => ({ i }), type = 'TEST'): Promise<unknown> {
  return server.app.services.db.transaction(async (tx) => {
    for (let i = 0; i < count; i++) await appendEvent(tx, stream, type, payload(i));
  });
}

async function sequencesAfter(stream: string, after: number): Promise<number[]> {
  return (await sql(server.databaseUrl, 'SELECT sequence FROM events WHERE stream = $1 AND sequence > $2 ORDER BY sequence', [stream, after])).map((r) => Number(r.sequence));
}

async function collect(events: AsyncIterable<StoredEvent>): Promise<number[]> {
  const seen: number[] = [];
  for await (const e of events) seen.push(e.sequence);
  return seen;
}

const quiet = () => createLogger('error', new Writable({ write: (_c, _e, done) => done() }));

describe('the event log’s fan-out', () => {
  it('replays the table and joins the live feed: every event exactly once, in order', async () => {
    const stream = 'test:replay';
    const [{ s: base }] = await sql(server.databaseUrl, 'SELECT coalesce(max(sequence), 0)::int AS s FROM events');
    await append(stream, 1200); // more than two pages of replay
    // Its own log with a tiny queue bound, so the held live events overflow during the replay.
    const log = new EventLog(server.databaseUrl, quiet(), { maxQueued: 20 });
    await log.start();
    try {
      const followers: { after: number; seen: Promise<number[]> }[] = [];
      const writing = (async () => {
        for (let i = 0; i < 60; i++) {
          await append(stream, 5);
          if (i % 10 === 0) {
            const after = base + [0, 300, 1100, 1500][followers.length % 4];
            followers.push({ after, seen: collect(log.follow(stream, after, { until: (e) => e.type === 'END' })) });
          }
        }
        await append(stream, 1, () => ({}), 'END');
      })();
      await writing;
      expect(followers).toHaveLength(6);
      for (const f of followers) {
        const seen = await f.seen;
        const expected = await sequencesAfter(stream, f.after);
        expect(expected.length).toBeGreaterThan(0);
        expect(seen).toEqual(expected);
      }
      // One reader for the stream, and it stops with its last follower.
      expect(log.readerStats(stream)).toBeNull();
    } finally {
      await log.stop();
    }
  });

  it('drops a pulling consumer that falls too far behind with TOO_MANY_REQUESTS', async () => {
    const stream = 'test:slow-pull';
    const log = new EventLog(server.databaseUrl, quiet(), { maxQueued: 10 });
    await log.start();
    try {
      const follower = log.follow(stream, 0);
      await sleep(200); // replayed (nothing) and live
      for (let i = 0; i < 5; i++) {
        await append(stream, 10);
        await sleep(100); // separate batches: the consumer had time, and took none
      }
      await waitFor('the follower to be dropped', () => log.listenerCount(stream) === 0);
      await expect(follower.next()).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/too slow.*afterSequence/) });
    } finally {
      await log.stop();
    }
  });

  it('reads each batch once per stream for all local subscribers, and builds each frame once', async () => {
    const token = await server.adminToken();
    const SUBSCRIBERS = 40;
    const received: number[][] = Array.from({ length: SUBSCRIBERS }, () => []);
    const clients = [server.wsClient(token), server.wsClient(token)];
    const disposers: (() => void)[] = [];
    onTestFinished(() => disposers.forEach((dispose) => dispose()));
    disposers.push(...received.map((seen, i) =>
      clients[i % 2].subscribe<{ auditLog: { sequence: string } }>(
        { query: 'subscription { auditLog { sequence type } }' },
        { next: (r) => seen.push(Number(r.data!.auditLog.sequence)), error: (e) => seen.push(-1, String(e) as never), complete: () => undefined },
      ),
    ));
    await waitFor('every subscriber to join the live feed', () => server.app.services.events.readerStats('audit')?.live === SUBSCRIBERS);
    const readsBefore = server.app.services.events.readerStats('audit')!.reads;
    const executionsBefore = frameStats.executions;
    const EVENTS = 25;
    for (let i = 0; i < EVENTS; i++) await append('audit', 1, () => ({ actor: 'fanout-test', i }));
    const expected = (await sql(server.databaseUrl, "SELECT sequence FROM events WHERE stream = 'audit' AND payload->>'actor' = 'fanout-test' ORDER BY sequence")).map((r) => Number(r.sequence));
    await waitFor('every subscriber to get every event', () => received.every((seen) => seen.length >= EVENTS));
    for (const seen of received) expect(seen).toEqual(expected);
    // One read per wake-up at most (wake-ups fold while a read runs), never one per subscriber.
    const reads = server.app.services.events.readerStats('audit')!.reads - readsBefore;
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(EVENTS);
    // One execution (and serialisation) per event for this one view, not one per subscriber.
    expect(frameStats.executions - executionsBefore).toBe(EVENTS);
    // The reads run on the log's own connections, not the request/job pool.
    const [{ n }] = await sql(server.databaseUrl, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'stagecraft-events'");
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(2);
    for (const dispose of disposers.splice(0)) dispose();
    await waitFor('the reader to stop with its last subscriber', () => server.app.services.events.readerStats('audit') === null);
  });

  it('closes a subscriber that stops reading (1013, saying why) while the others get every event on time', async () => {
    const token = await server.adminToken();
    // The prompt subscriber: records when each event arrives.
    const arrivals = new Map<number, number>();
    const prompt = server.wsClient(token);
    const dispose = prompt.subscribe<{ auditLog: { sequence: string } }>(
      { query: 'subscription { auditLog { sequence details } }' },
      { next: (r) => arrivals.set(Number(r.data!.auditLog.sequence), Date.now()), error: () => undefined, complete: () => undefined },
    );
    // The slow one: a raw graphql-transport-ws socket that stops reading once subscribed.
    const slow = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => slow.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((r) => slow.once('open', r));
    slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((r) => slow.once('message', r));
    slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: 'subscription { auditLog { sequence details } }' } }));
    await waitFor('both subscribers to join the live feed', () => server.app.services.events.readerStats('audit')?.live === 2);
    (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    // 16 MB of events: more than the kernel buffers between the two ends plus the 64 KiB bound.
    const blob = 'x'.repeat(40_000);
    const committed = new Map<number, number>();
    for (let batch = 0; batch < 40; batch++) {
      await append('audit', 10, (i) => ({ actor: 'fanout-slow', batch, i, blob }));
      const now = Date.now();
      for (const s of await sql(server.databaseUrl, "SELECT sequence FROM events WHERE stream = 'audit' AND payload->>'actor' = 'fanout-slow' AND (payload->>'batch')::int = $1", [batch])) {
        committed.set(Number(s.sequence), now);
      }
      await sleep(25);
    }
    await waitFor('the slow subscriber to be dropped', () => server.app.services.events.listenerCount('audit') === 1);
    await waitFor('the prompt subscriber to get every event', () => [...committed.keys()].every((s) => arrivals.has(s)), 30_000);
    const delays = [...committed].map(([s, at]) => arrivals.get(s)! - at).sort((a, b) => a - b);
    // Generous for two shared, loaded cores; what it guards against is waiting for the slow one.
    expect(delays.at(-1)!).toBeLessThan(5_000);
    dispose();

    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    const { code, reason } = await closed;
    expect(code).toBe(1013);
    expect(reason).toMatch(/subscriber too slow.*resubscribe with afterSequence/);
  });
});

describe('batched ASSET progress', () => {
  it('a promotion of 300 assets gives at most 50 ASSET events, the last with completed == total; the report keeps every asset', async () => {
    const token = await server.adminToken();
    const ids: string[] = [];
    for (let start = 0; start < 300; start += 10) {
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, i) => server.gql('mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }', { input: { type: 'POLICY', name: `batched policy ${start + i}` } }, token)),
      );
      for (const res of created) {
        expect(res.errors).toBeUndefined();
        ids.push(res.data!.createAsset.id);
      }
    }
    await registerStage(server, 'qa', qa);
    const promotion = await promoteAndWait(server, { name: 'three hundred policies', assetIds: ids, targetStages: ['qa'] });
    expect(promotion.status).toBe('SUCCESS');
    expect(promotion.stages[0].report).toHaveLength(300);
    // As a client written against the per-asset events reads them: same phase, same fields.
    const events = await take(
      server.wsClient(token),
      'subscription($id: ID!) { promotionProgress(promotionId: $id, afterSequence: 0) { stageName phase message completed total } }',
      { id: promotion.id },
      1000,
    );
    const assetEvents = events.map((r) => r.data.promotionProgress).filter((e) => e.phase === 'ASSET');
    expect(assetEvents.length).toBeGreaterThan(1);
    expect(assetEvents.length).toBeLessThanOrEqual(50);
    expect(assetEvents.at(-1)).toMatchObject({ phase: 'ASSET', stageName: 'qa', completed: 300, total: 300 });
    expect(assetEvents[0].message).toMatch(/^\d+ assets: \d+ CREATED \(POLICY batched policy \d+ … POLICY batched policy \d+\)$/);
  });
});
