/**
 * Event-log subscriptions delivered as frames built once per event, not once per subscriber.
 *
 * graphql-ws would execute the selection set and stringify a `next` message for every subscriber
 * of every event: with a thousand watchers of one promotion that is a thousand executions per
 * event. Here the `next` payload is executed and serialised once per event and per *view* (the
 * document, its variables, and the privileges it runs with, the only inputs the progress types
 * depend on), and each subscriber's frame is that JSON with its own id spliced in front. The
 * same event object reaches every subscriber of a stream (one reader per stream), so a WeakMap on
 * it holds the payloads exactly as long as anyone may still need them.
 *
 * graphql-ws keeps owning the operation: it holds a stand-in iterator (`FrameDelivery`) that
 * yields nothing and ends when the stream does, so its `complete` follows the last frame, a
 * client's `complete` and a revoked socket still end the subscription (through `return()`), and
 * a failure still goes out as an `error` message.
 *
 * Each subscriber's buffer is bounded: a socket with more than `maxBufferedBytes` unsent, or more
 * than `maxQueued` events waiting for their payload, is closed 1013 ("try again later", which
 * graphql-ws clients retry) with a reason saying to resubscribe with afterSequence. The others
 * never wait for it: sending is a non-blocking write.
 */
import { createHash } from 'node:crypto';
import { execute, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';
import type { Context } from '../graphql/context.js';
import type { StoredEvent } from '../events/event-log.js';
import type { EventFollower } from '../events/stream-feed.js';
import { closeReason } from './ws-transport.js';

/** "Try Again Later": graphql-ws clients reconnect after it (4xxx codes would be fatal to them). */
export const SLOW_CONSUMER_CLOSE = 1013;

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

interface Payload {
  json?: string;
  ready: Promise<string>;
}

/** Per event, per view key: its `next` payload JSON. */
const payloads = new WeakMap<StoredEvent, Map<string, Payload>>();

/** Executions of a payload (tests and metrics: one per event and view, however many subscribers). */
export const frameStats = { executions: 0 };

/** What the payload of an event depends on, besides the event: document, variables, privileges. */
export function viewKey(query: string, operationName: string | null | undefined, variables: unknown, context: Context): string {
  const who = context.gateway ? `gateway:${context.gateway.group}` : context.user ? `user:${[...context.user.privileges].sort().join(',')}` : 'anonymous';
  return createHash('sha256')
    .update(JSON.stringify([query, operationName ?? null, variables ?? null, who]))
    .digest('base64url');
}

/**
 * Fan-out lag of a live event: from its stored time to its frame for one view being ready, which
 * is when the first subscriber's socket gets it (the others follow in the same turn, or a few
 * turns on, FOLLOWERS_PER_TURN). Observed once per event and view, when the payload is built, so
 * the per-subscriber path stays one WeakMap lookup. A replayed event is not observed: its age is
 * how far back the subscriber asked to start, not a delay of ours.
 */
export type LagObserver = (seconds: number) => void;

const lagOf = (event: StoredEvent) => (Date.now() - event.createdAt.getTime()) / 1000;

function payloadFor(event: StoredEvent, key: string, args: ExecutionArgs, formatError: FormatError, observeLag: LagObserver | undefined): Payload {
  let byView = payloads.get(event);
  if (!byView) payloads.set(event, (byView = new Map()));
  let payload = byView.get(key);
  if (payload) return payload;
  frameStats.executions++;
  const serialise = (result: ExecutionResult): string =>
    JSON.stringify(result.errors ? { ...result, errors: result.errors.map((e: GraphQLError) => formatError(e, e)) } : result);
  const result = execute({ ...args, rootValue: event });
  // Resolvers that answer synchronously give a frame every subscriber can send at once, in the
  // reader's own turn, with no promise per subscriber.
  if (!isPromise(result)) {
    const json = serialise(result);
    observeLag?.(lagOf(event));
    payload = { json, ready: Promise.resolve(json) };
  } else {
    const entry: Payload = {
      ready: result.then((r) => {
        entry.json = serialise(r);
        observeLag?.(lagOf(event));
        return entry.json;
      }),
    };
    payload = entry;
  }
  byView.set(key, payload);
  return payload;
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T>)?.then === 'function';

/** The TCP socket under a `ws` WebSocket: ws keeps it as `_socket`, outside its typings. */
interface Corkable {
  cork(): void;
  uncork(): void;
}
function transportOf(socket: WebSocket): Corkable | undefined {
  return (socket as unknown as { _socket?: Corkable })._socket;
}

export interface FrameDeliveryOptions {
  id: string;
  socket: WebSocket;
  args: ExecutionArgs;
  viewKey: string;
  formatError: FormatError;
  maxBufferedBytes: number;
  maxQueued: number;
  /** Where the fan-out lag of live events goes (the instance's metrics). */
  observeLag?: LagObserver;
}

/**
 * Sends a follower's events to one subscriber as pre-built frames; graphql-ws iterates this
 * object, which ends (or fails) when the delivery does.
 */
export class FrameDelivery implements AsyncGenerator<never, void, unknown> {
  private readonly prefix: string;
  /** Events whose payload is still being executed, in order. */
  private waiting: Payload[] = [];
  private draining = false;
  private ended = false;
  private endedWith: Error | undefined;
  private settle: ((err?: Error) => void) | undefined;
  private readonly done: Promise<void>;
  /** The socket is corked until the end of this tick (see send). */
  private corked = false;

  constructor(
    private readonly follower: EventFollower,
    private readonly options: FrameDeliveryOptions,
  ) {
    this.prefix = `{"id":${JSON.stringify(options.id)},"type":"next","payload":`;
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
    this.done.catch(() => undefined); // observed by next(); never an unhandled rejection
    follower.take({
      next: (event) => this.push(event),
      end: (err) => {
        this.ended = true;
        this.endedWith = err;
        if (!this.draining) this.settle?.(err);
      },
      ready: () => this.ready(),
    });
  }

  /** For a long replay: the next page once this page's frames are mostly out. */
  private async ready(): Promise<void> {
    const { socket, maxBufferedBytes } = this.options;
    while (!this.ended && socket.readyState === socket.OPEN && (this.waiting.length || socket.bufferedAmount > maxBufferedBytes / 4)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private push(event: StoredEvent): void {
    const payload = payloadFor(event, this.options.viewKey, this.options.args, this.options.formatError, this.follower.isLive ? this.options.observeLag : undefined);
    if (!this.waiting.length && payload.json !== undefined) return this.send(payload.json);
    this.waiting.push(payload);
    if (this.waiting.length > this.options.maxQueued) return this.drop(`more than ${this.options.maxQueued} events waiting`);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length) {
        const json = await this.waiting[0].ready;
        this.waiting.shift();
        this.send(json);
      }
    } catch (err) {
      this.waiting = [];
      this.follower.finish(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.draining = false;
    }
    if (this.ended) this.settle?.(this.endedWith);
  }

  private send(json: string): void {
    const { socket } = this.options;
    if (socket.readyState !== socket.OPEN) return;
    // Every frame this subscriber gets in one turn (a reader batch of several events, the pages
    // of a replay) leaves in one write: a thousand sockets cost a thousand system calls per batch,
    // not per event. The kernel's send on loopback is the dominant cost of fan-out, and under load
    // the reader's batches grow, so the cost per event falls as the rate rises.
    if (this.corked) return void socket.send(this.prefix + json + '}');
    const transport = transportOf(socket);
    if (!transport) {
      socket.send(this.prefix + json + '}');
      return this.checkBacklog();
    }
    transport.cork();
    this.corked = true;
    socket.send(this.prefix + json + '}');
    process.nextTick(() => {
      this.corked = false;
      transport.uncork();
      // Only what the kernel did not take counts against the bound: a healthy subscriber's large
      // batch sits in the cork for this tick and then leaves at once.
      this.checkBacklog();
    });
  }

  private checkBacklog(): void {
    const { socket, maxBufferedBytes } = this.options;
    if (socket.readyState === socket.OPEN && socket.bufferedAmount > maxBufferedBytes) this.drop(`more than ${maxBufferedBytes} bytes unsent`);
  }

  /** A subscriber that cannot keep up loses its socket, never holding the others back. */
  private drop(why: string): void {
    this.waiting = [];
    this.follower.finish();
    const { socket } = this.options;
    if (socket.readyState === socket.OPEN) socket.close(SLOW_CONSUMER_CLOSE, closeReason(`subscriber too slow (${why}); resubscribe with afterSequence`));
  }

  async next(): Promise<IteratorResult<never, void>> {
    await this.done;
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<never, void>> {
    this.waiting = [];
    this.follower.finish();
    this.settle?.();
    return { value: undefined, done: true };
  }

  async throw(err: unknown): Promise<IteratorResult<never, void>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Any other source (gatewayConfig's watch): each event executed for this subscriber, as graphql-js
 * `subscribe` does. `return()` reaches the source at once, even while it waits for an event.
 */
export function executeEach(iterable: AsyncIterable<unknown>, args: ExecutionArgs): AsyncGenerator<ExecutionResult, void, unknown> {
  const source = iterable[Symbol.asyncIterator]();
  const mapped: AsyncGenerator<ExecutionResult, void, unknown> = {
    async next() {
      const step = await source.next();
      if (step.done) return { value: undefined, done: true };
      return { value: await execute({ ...args, rootValue: step.value }), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(err: unknown) {
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}
