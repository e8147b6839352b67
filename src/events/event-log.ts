/**
 * Stored events with LISTEN/NOTIFY fan-out. Writers append inside their own transaction (the
 * NOTIFY is delivered at commit, so nobody hears of an event that rolled back). Every replica
 * keeps one listening connection; a notification carries only the stream and sequence.
 *
 * Fan-out from memory: per stream with local subscribers, one reader (stream-feed.ts) reads each
 * new batch once and feeds every subscriber from memory; a subscriber's replay (`afterSequence`)
 * reads the table once and joins that feed. All of it runs on the log's own small pool, never on
 * the pool that requests and jobs use, so a thousand watchers cannot make a job's statements wait.
 */
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import { ChannelListener } from '../db/channel-listener.js';
import type { Logger } from '../logger.js';
import { EventFollower, PAGE, StreamReader, type FeedSource } from './stream-feed.js';

const CHANNEL = 'stagecraft_events';

export interface StoredEvent {
  sequence: number;
  stream: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export async function appendEvent(
  manager: EntityManager,
  stream: string,
  type: string,
  payload: Record<string, unknown>,
): Promise<StoredEvent> {
  if (!manager.queryRunner?.isTransactionActive) {
    // The ordering lock below only holds within a transaction; give a lone append its own.
    return manager.transaction((tx) => appendEvent(tx, stream, type, payload));
  }
  // One statement, one round trip (a job's transaction and every watcher wait on it):
  // - writers of one stream take turns until commit (the advisory lock, taken before the row gets
  //   its sequence), so a stream's sequences become visible in order and a reader that resumes
  //   after sequence N can never skip a later-committing N-1;
  // - the wall-clock time of the event, not the transaction's start (now()), so a batch of events
  //   written in one transaction still shows when each happened;
  // - the NOTIFY carries the stream and sequence only (far below the 8000-byte limit: streams are
  //   at most 200 characters).
  const createdAt = new Date();
  const [row] = (await manager.query(
    `WITH turn AS (SELECT pg_advisory_xact_lock(hashtext($1))),
          stored AS (INSERT INTO events (stream, type, payload, created_at) SELECT $1, $2, $3::jsonb, $4 FROM turn RETURNING sequence)
     SELECT sequence, pg_notify($5, json_build_object('stream', $1::text, 'sequence', sequence)::text) FROM stored`,
    [stream, type, JSON.stringify(payload), createdAt, CHANNEL],
  )) as { sequence: string }[];
  return { sequence: Number(row.sequence), stream, type, payload, createdAt };
}


/**
 * Several events of one stream in one statement (a batch of progress): the same turn-taking,
 * sequences in the order given, one NOTIFY per event, as many `appendEvent` calls would give.
 */
export async function appendEvents(
  manager: EntityManager,
  stream: string,
  events: readonly { type: string; payload: Record<string, unknown> }[],
): Promise<StoredEvent[]> {
  if (!events.length) return [];
  if (!manager.queryRunner?.isTransactionActive) return manager.transaction((tx) => appendEvents(tx, stream, events));
  const createdAt = new Date();
  const rows = (await manager.query(
    `WITH turn AS (SELECT pg_advisory_xact_lock(hashtext($1))),
          stored AS (INSERT INTO events (stream, type, payload, created_at)
                     SELECT $1, u.type, u.payload::jsonb, $4 FROM turn, unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(type, payload, n) ORDER BY u.n
                     RETURNING sequence)
     SELECT sequence, pg_notify($5, json_build_object('stream', $1::text, 'sequence', sequence)::text) FROM stored ORDER BY sequence`,
    [stream, events.map((e) => e.type), events.map((e) => JSON.stringify(e.payload)), createdAt, CHANNEL],
  )) as { sequence: string }[];
  return rows.map((row, i) => ({ sequence: Number(row.sequence), stream, type: events[i]!.type, payload: events[i]!.payload, createdAt }));
}

export interface EventLogOptions {
  /** Events a pulling subscriber may leave waiting before it is dropped (TOO_MANY_REQUESTS). */
  maxQueued?: number;
  /** Connections of the log's own pool (readers and replays). */
  poolSize?: number;
}

export class EventLog {
  private readonly readers = new Map<string, StreamReader>();
  private readonly pool: pg.Pool;
  private readonly feedSource: FeedSource;
  private readonly maxQueued: number;
  private readonly listener: ChannelListener;
  private closed = false;

  constructor(
    databaseUrl: string,
    private readonly log: Logger,
    options: EventLogOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? 10_000;
    // Two connections: one reader can read while another stream's reader (or a replay) does.
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 2, application_name: 'stagecraft-events' });
    this.pool.on('error', (err) => this.log.warn({ err: err.message }, 'an idle event-log connection failed'));
    // After the listening connection was lost every reader re-reads: notifications may have been missed.
    this.listener = new ChannelListener({
      databaseUrl,
      channel: CHANNEL,
      applicationName: 'stagecraft-listener',
      log,
      onNotification: (payload) => this.wake(payload),
      onReconnect: () => this.wakeAll(),
    });
    this.feedSource = {
      readPage: (stream, after, limit) => this.readAfter(stream, after, limit),
      latestSequence: (stream) => this.latestSequence(stream),
      readFailed: (stream, err) => this.log.warn({ stream, err: (err as Error)?.message ?? String(err) }, 'could not read events; retrying'),
    };
  }

  async start(): Promise<void> {
    await this.listener.start();
  }

  /** A notification names its stream; that stream's reader (if any here) reads what is new. */
  private wake(payload: string | undefined): void {
    try {
      const { stream } = JSON.parse(payload ?? '{}') as { stream?: string };
      if (stream) this.readers.get(stream)?.wake();
    } catch {
      /* not ours */
    }
  }

  private wakeAll(): void {
    for (const reader of this.readers.values()) reader.wake();
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const reader of [...this.readers.values()]) for (const follower of [...reader.followers]) follower.finish();
    await this.listener.stop();
    await this.pool.end().catch(() => undefined);
  }

  async readAfter(stream: string, afterSequence: number, limit = PAGE): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query<{ sequence: string; stream: string; type: string; payload: Record<string, unknown>; created_at: Date }>(
      'SELECT sequence, stream, type, payload, created_at FROM events WHERE stream = $1 AND sequence > $2 ORDER BY sequence LIMIT $3',
      [stream, afterSequence, limit],
    );
    return rows.map((r) => ({ sequence: Number(r.sequence), stream: r.stream, type: r.type, payload: r.payload, createdAt: r.created_at }));
  }

  async latestSequence(stream: string): Promise<number> {
    const { rows } = await this.pool.query<{ max: string | null }>('SELECT max(sequence) AS max FROM events WHERE stream = $1', [stream]);
    return Number(rows[0]?.max ?? 0);
  }

  /**
   * Every event of `stream` after `afterSequence`, stored ones first, then live ones, each once and
   * in order, until the consumer stops, `until` matches, or the log is stopped. Pull it as an async
   * iterator, or push it with `take` (see stream-feed.ts).
   */
  follow(
    stream: string,
    afterSequence = 0,
    options: { filter?: (e: StoredEvent) => boolean; until?: (e: StoredEvent) => boolean } = {},
  ): EventFollower {
    let reader = this.readers.get(stream);
    if (!reader) {
      reader = new StreamReader(stream, this.feedSource);
      this.readers.set(stream, reader);
    }
    const follower = new EventFollower(reader, this.feedSource, afterSequence, { ...options, maxQueued: this.maxQueued }, (f) => this.leave(reader, f));
    if (this.closed) follower.finish();
    return follower;
  }

  /** The reader stops with its last local subscriber. */
  private leave(reader: StreamReader, follower: EventFollower): void {
    reader.followers.delete(follower);
    if (reader.followers.size || this.readers.get(reader.stream) !== reader) return;
    reader.stop();
    this.readers.delete(reader.stream);
  }

  /** How many subscribers wait on a stream (for tests and metrics). */
  listenerCount(stream: string): number {
    return this.readers.get(stream)?.followers.size ?? 0;
  }

  /** The stream's reader in this process, if it has subscribers: batches it read (tests, metrics). */
  readerStats(stream: string): { followers: number; live: number; reads: number } | null {
    const reader = this.readers.get(stream);
    if (!reader) return null;
    let live = 0;
    for (const f of reader.followers) if (f.isLive) live++;
    return { followers: reader.followers.size, live, reads: reader.reads };
  }
}
