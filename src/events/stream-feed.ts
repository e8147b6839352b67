/**
 * One stream's live feed in this process, and the subscribers it feeds.
 *
 * A `StreamReader` is the only thing that reads a stream's new events: woken by NOTIFY, it reads
 * each new batch once and hands the same event objects to every local `EventFollower` of the
 * stream. A follower first replays the table after its `afterSequence`, then joins the live feed:
 * live events that arrive while it replays are held (bounded) and merged by sequence, so it
 * sees every event exactly once, in order.
 *
 * A follower is consumed either by pulling (an async iterator with a bounded queue; a consumer
 * that falls `maxQueued` events behind is ended with a TOO_MANY_REQUESTS error) or by taking the
 * events pushed (`take`), where the taker bounds its own buffer (the WebSocket delivery does).
 */
import { AppError } from '../errors.js';
import type { StoredEvent } from './event-log.js';

export const PAGE = 500;

/**
 * Followers fed per turn of the event loop. Handing a batch to a thousand sockets costs a thousand
 * socket writes (~10–20 ms on these machines); done in one turn, that holds back every database
 * reply meanwhile, and with it each writer's commit (a stream's writers take turns until commit,
 * event-log.ts), so under a steady rate the events would wait in the writers, not in the feed.
 */
const FOLLOWERS_PER_TURN = 100;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a reader and its followers need from the log: reads on the log's own connections. */
export interface FeedSource {
  readPage(stream: string, afterSequence: number, limit: number): Promise<StoredEvent[]>;
  latestSequence(stream: string): Promise<number>;
  /** A read failed: log it; the reader retries. */
  readFailed(stream: string, err: unknown): void;
}

export interface FollowOptions {
  filter?: (e: StoredEvent) => boolean;
  until?: (e: StoredEvent) => boolean;
  /** Events a pulling consumer may leave waiting before it is dropped. */
  maxQueued: number;
}

/** Receives a follower's events when they are pushed rather than pulled. */
export interface FollowerSink {
  next(event: StoredEvent): void;
  /** No more events: the stream ended (`until`), the log stopped, or `err`. */
  end(err?: Error): void;
  /** Resolves when the sink can take another page of a replay (its own backpressure). */
  ready(): Promise<void>;
}

export class SlowConsumerError extends AppError {
  constructor(limit: number) {
    super('TOO_MANY_REQUESTS', `subscriber too slow: more than ${limit} events were waiting for it; resubscribe with afterSequence`, { limit });
  }
}

export class StreamReader {
  readonly followers = new Set<EventFollower>();
  /** Last sequence read (every event up to it was handed to the followers of the moment). */
  cursor = 0;
  /** Batches read from the table, for tests and metrics. */
  reads = 0;
  readonly ready: Promise<void>;
  private reading = false;
  private again = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    readonly stream: string,
    private readonly source: FeedSource,
  ) {
    // Live reads start after what is stored now; older events are each follower's replay.
    this.ready = source.latestSequence(stream).then(
      (latest) => {
        this.cursor = latest;
      },
      (err: unknown) => source.readFailed(stream, err),
    );
  }

  /** Something new may be stored: read it (once, however many wake-ups arrive meanwhile). */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  /**
   * Hands a batch to every follower of the moment, a slice per turn. A follower that joins while
   * this runs is not missed: it joined before its replay's first read, and this batch was
   * committed before we read it, so its replay reads it (and skips it if it also arrives live).
   */
  private async feed(batch: readonly StoredEvent[]): Promise<void> {
    let fed = 0;
    for (const follower of [...this.followers]) {
      if (this.stopped) return;
      follower.live(batch);
      if (++fed % FOLLOWERS_PER_TURN === 0 && fed < this.followers.size) await nextTurn();
    }
  }

  private async pump(): Promise<void> {
    this.reading = true;
    try {
      await this.ready;
      do {
        this.again = false;
        for (let more = true; more && !this.stopped; ) {
          const batch = await this.source.readPage(this.stream, this.cursor, PAGE);
          this.reads++;
          if (this.stopped || !batch.length) break;
          this.cursor = batch[batch.length - 1].sequence;
          await this.feed(batch);
          more = batch.length === PAGE;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.source.readFailed(this.stream, err);
      this.retry = setTimeout(() => this.wake(), 1000);
    } finally {
      this.reading = false;
    }
  }
}

type FollowerState = 'replaying' | 'live' | 'ended';

export class EventFollower implements AsyncIterableIterator<StoredEvent> {
  private state: FollowerState = 'replaying';
  /** Last sequence handed on (or skipped by the filter). */
  private delivered: number;
  /** Live events that arrived during the replay, merged when it catches up. */
  private held: StoredEvent[] = [];
  /** Bumped when `held` overflowed and was emptied: the replay must then read on past it. */
  private heldGeneration = 0;
  private queue: StoredEvent[] = [];
  private waiting: ((r: IteratorResult<StoredEvent>) => void) | undefined;
  private failWaiting: ((err: Error) => void) | undefined;
  private failure: Error | undefined;
  private sink: FollowerSink | undefined;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly reader: StreamReader,
    private readonly source: FeedSource,
    afterSequence: number,
    private readonly options: FollowOptions,
    private readonly detach: (follower: EventFollower) => void,
  ) {
    this.delivered = afterSequence;
    reader.followers.add(this); // before the replay's first read, so nothing slips between
    void this.replay();
  }

  /** Caught up with the table and fed by the reader (tests, metrics). */
  get isLive(): boolean {
    return this.state === 'live';
  }

  /** Push mode: events go to `sink` as they come (those already queued first). */
  take(sink: FollowerSink): void {
    this.sink = sink;
    const queued = this.queue;
    this.queue = [];
    for (const event of queued) sink.next(event);
    if (this.state === 'ended') sink.end(this.failure);
  }

  /** A batch from the reader. */
  live(batch: readonly StoredEvent[]): void {
    if (this.state === 'live') {
      // Too slow: still more than maxQueued events waiting from earlier batches when a new one
      // comes (a single large batch alone never counts against a consumer that keeps up).
      if (!this.sink && this.queue.length > this.options.maxQueued) {
        this.queue = [];
        this.finish(new SlowConsumerError(this.options.maxQueued));
        return;
      }
      for (const event of batch) if (event.sequence > this.delivered && !this.emit(event)) return;
    } else if (this.state === 'replaying') {
      this.held.push(...batch);
      if (this.held.length > this.options.maxQueued) {
        // Every held event is in the table: drop them and let the replay read on instead.
        this.held = [];
        this.heldGeneration++;
      }
    }
  }

  private async replay(): Promise<void> {
    try {
      await this.reader.ready;
      for (;;) {
        const generation = this.heldGeneration;
        const page = await this.source.readPage(this.reader.stream, this.delivered, PAGE);
        if (this.state === 'ended') return;
        for (const event of page) if (!this.emit(event)) return;
        if (page.length === PAGE || generation !== this.heldGeneration) {
          // A long replay goes at the consumer's pace, a page at a time.
          await this.consumed();
          continue;
        }
        // Caught up with the table as of this read; everything later is held or still to come
        // from the reader. Switching is synchronous, so no batch lands in between.
        this.state = 'live';
        const held = this.held;
        this.held = [];
        for (const event of held) if (event.sequence > this.delivered && !this.emit(event)) return;
        return;
      }
    } catch (err) {
      this.source.readFailed(this.reader.stream, err);
      this.finish(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Resolves when the consumer has taken what was handed on (or the follower ended). */
  private consumed(): Promise<void> {
    if (this.sink) return this.sink.ready();
    if (!this.queue.length || this.state === 'ended') return Promise.resolve();
    return new Promise((resolve) => (this.onDrained = resolve));
  }

  /** Hands one event on; false once the follower has ended. */
  private emit(event: StoredEvent): boolean {
    if (this.state === 'ended') return false;
    this.delivered = event.sequence;
    if (this.options.filter && !this.options.filter(event)) return true;
    if (this.sink) this.sink.next(event);
    else if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
    if (this.options.until?.(event)) {
      this.finish();
      return false;
    }
    return true;
  }

  private drained(): void {
    const resolve = this.onDrained;
    this.onDrained = undefined;
    resolve?.();
  }

  /** Ends the follower: leaves the reader, and tells the consumer once its queue is drained. */
  finish(err?: Error): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.drained();
    this.failure = err;
    this.held = [];
    this.detach(this);
    if (this.sink) this.sink.end(err);
    else if (this.waiting) {
      const [resolve, reject] = [this.waiting, this.failWaiting!];
      this.waiting = this.failWaiting = undefined;
      if (err) reject(err);
      else resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    const queued = this.queue.shift();
    if (!this.queue.length) this.drained();
    if (queued) return Promise.resolve({ value: queued, done: false });
    if (this.state === 'ended') {
      const err = this.failure;
      this.failure = undefined; // reported once; after that the iterator is simply done
      return err ? Promise.reject(err) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<StoredEvent>> {
    this.queue = [];
    this.finish();
    this.failure = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<StoredEvent>> {
    this.queue = [];
    this.finish();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
