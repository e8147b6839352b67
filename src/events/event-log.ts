/**
 * Stored events with LISTEN/NOTIFY fan-out. Writers append inside their own transaction (the
 * NOTIFY is delivered at commit, so nobody hears of an event that rolled back). Every replica
 * keeps one listening connection; a notification carries only the stream and sequence, and
 * subscribers read the rows themselves, so a late or reconnecting subscriber misses nothing.
 */
import { Repeater } from '@repeaterjs/repeater';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { EventEntity } from '../entities/event.js';
import type { Logger } from '../logger.js';

const CHANNEL = 'stagecraft_events';
const PAGE = 500;

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
  // Writers of one stream take turns until commit, so a stream's sequences become visible in
  // order and a reader that resumes after sequence N can never skip a later-committing N-1.
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [stream]);
  // The wall-clock time of the event, not the transaction's start (now()), so a batch of
  // events written in one transaction still shows when each happened.
  const row = await manager.getRepository(EventEntity).save({ stream, type, payload, createdAt: new Date() });
  await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ stream, sequence: row.sequence })]);
  return toStored(row);
}

function toStored(row: EventEntity): StoredEvent {
  return { sequence: Number(row.sequence), stream: row.stream, type: row.type, payload: row.payload, createdAt: row.createdAt };
}

export class EventLog {
  private readonly wakeups = new EventEmitter();
  private listener: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {
    this.wakeups.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'stagecraft-listener' });
    client.on('notification', (msg) => {
      try {
        const { stream } = JSON.parse(msg.payload ?? '{}') as { stream?: string };
        if (stream) this.wakeups.emit(stream);
      } catch {
        /* not ours */
      }
    });
    client.on('error', (err) => this.reconnect(err));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  /** After losing the listening connection, wake everyone (they re-read) and listen again. */
  private reconnect(err: Error): void {
    if (this.closed || this.reconnectTimer) return;
    this.log.warn({ err: err.message }, 'event listener lost its connection; reconnecting');
    this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.start()
        .then(() => this.wakeAll())
        .catch((e: Error) => this.reconnect(e));
    }, 1000);
  }

  private wakeAll(): void {
    for (const name of this.wakeups.eventNames()) this.wakeups.emit(name);
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.wakeAll();
    await this.listener?.end().catch(() => undefined);
  }

  async readAfter(stream: string, afterSequence: number, limit = PAGE): Promise<StoredEvent[]> {
    const rows = await this.dataSource
      .getRepository(EventEntity)
      .createQueryBuilder('e')
      .where('e.stream = :stream AND e.sequence > :after', { stream, after: afterSequence })
      .orderBy('e.sequence', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toStored);
  }

  async latestSequence(stream: string): Promise<number> {
    const [row] = await this.dataSource.query('SELECT max(sequence) AS max FROM events WHERE stream = $1', [stream]);
    return Number(row?.max ?? 0);
  }

  /**
   * Every event of `stream` after `afterSequence`, stored ones first, then live ones, until the
   * consumer stops iterating or the log is stopped. A Repeater (not an async generator) so that a
   * consumer can stop it while it is idle waiting for the next event, releasing the listener.
   */
  follow(
    stream: string,
    afterSequence = 0,
    options: { filter?: (e: StoredEvent) => boolean; until?: (e: StoredEvent) => boolean } = {},
  ): AsyncIterableIterator<StoredEvent> {
    return new Repeater<StoredEvent>(async (push, stop) => {
      let last = afterSequence;
      let pending = true; // read once at the start
      let stopped = false;
      let wake: (() => void) | undefined;
      const onWake = () => {
        pending = true;
        wake?.();
      };
      this.wakeups.on(stream, onWake); // before the first read, so nothing slips between
      void stop.then(() => {
        stopped = true;
        wake?.();
      });
      try {
        while (!stopped && !this.closed) {
          if (!pending) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          pending = false;
          for (let more = true; more && !stopped; ) {
            const batch = await this.readAfter(stream, last);
            for (const event of batch) {
              last = event.sequence;
              if (options.filter && !options.filter(event)) continue;
              await push(event);
              if (options.until?.(event)) {
                stopped = true;
                break;
              }
            }
            more = batch.length === PAGE;
          }
        }
      } finally {
        this.wakeups.off(stream, onWake);
        stop();
      }
    });
  }

  /** How many subscribers wait on a stream (for tests and metrics). */
  listenerCount(stream: string): number {
    return this.wakeups.listenerCount(stream);
  }
}
