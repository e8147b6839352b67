/**
 * The client's request body, prepared so a failed attempt can be retried safely.
 *
 * Policy: a body of up to 1 MiB is read into memory before the first attempt, so any retry can
 * send it again intact. A larger body (by Content-Length, or a chunked body that passes 1 MiB
 * while being read) is streamed to the upstream with backpressure and can be retried only as
 * long as no attempt has pulled a byte of it, which is the case for every connect failure
 * (refused, connect timeout): undici reads the body only once it holds a connected socket.
 * Buffering costs at most 1 MiB per request in flight and one body's worth of latency for
 * small uploads; it buys retries for the common case (JSON APIs).
 */
import type { IncomingMessage } from 'node:http';

export const MAX_BUFFERED_BODY = 1024 * 1024;

export interface RequestBody {
  /** What to hand undici for one attempt. */
  forAttempt(): Buffer | AsyncIterable<Buffer> | null;
  /** Whether another attempt would send the whole body (nothing of it was consumed). */
  replayable(): boolean;
  /**
   * Reads and drops what the client still sends once the exchange is over (an upstream answered
   * or failed mid-upload), so the client gets our response and its connection stays usable.
   * A body never touched needs nothing: Node drains unread bodies itself.
   */
  discard(): void;
}

export const NO_BODY: RequestBody = { forAttempt: () => null, replayable: () => true, discard: () => undefined };

/** How the client frames its body (from the request head: see headers.ts readRequestHead). */
export interface BodyFraming {
  contentLength: string | null;
  chunked: boolean;
}

/** No body: answered at once, without a promise (most proxied requests are GETs). */
export function readRequestBody(req: IncomingMessage, framing: BodyFraming, maxBuffered = MAX_BUFFERED_BODY): RequestBody | Promise<RequestBody> {
  const length = framing.contentLength === null ? null : Number(framing.contentLength);
  if (!framing.chunked && (length === null || length === 0)) {
    req.resume(); // nothing to read, but let 'end' happen
    return NO_BODY;
  }
  return readBody(req, framing.chunked, length, maxBuffered);
}

async function readBody(req: IncomingMessage, chunked: boolean, length: number | null, maxBuffered: number): Promise<RequestBody> {
  const source = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  if (chunked || (length !== null && length <= maxBuffered)) {
    let size = 0;
    for (;;) {
      const next = await source.next();
      if (next.done) {
        const data = head.length === 1 ? head[0]! : Buffer.concat(head, size);
        return { forAttempt: () => data, replayable: () => true, discard: () => undefined };
      }
      head.push(next.value);
      size += next.value.length;
      if (size > maxBuffered) break; // too big after all: stream it, starting with what we have
    }
  }
  return new StreamedBody(head, source);
}

/** A body passed through as it arrives; each attempt continues the one client stream. */
class StreamedBody implements RequestBody {
  private consumed = false;
  private discarding = false;

  constructor(
    private readonly head: Buffer[],
    private readonly source: AsyncIterator<Buffer>,
  ) {}

  replayable(): boolean {
    return !this.consumed;
  }

  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.head.length = 0;
    void (async () => {
      // Bounded by Node's server requestTimeout: a client cannot keep this going forever.
      for (;;) if ((await this.source.next()).done) return;
    })().catch(() => undefined);
  }

  forAttempt(): AsyncIterable<Buffer> {
    // A fresh generator per attempt: its body runs only when undici pulls the first chunk, so an
    // attempt that never connected leaves the client stream untouched for the next one.
    const self = this;
    return (async function* () {
      self.consumed = true;
      while (self.head.length) yield self.head.shift()!;
      for (;;) {
        const next = await self.source.next();
        if (next.done) return;
        yield next.value;
      }
    })();
  }
}
