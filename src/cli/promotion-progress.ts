/**
 * Following a promotion as it runs: the promotionProgress subscription over graphql-ws
 * (reconnecting with afterSequence when the socket drops, so no event is lost or shown twice),
 * and its display — a bar per stage on a terminal, one plain line per event otherwise. Used by
 * `promote --wait` and `repromote --wait`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CliError, EXIT, printable, type CliIO } from './command.js';
import { graphqlError } from './graphql.js';
import type { Connection } from './http.js';

export interface ProgressEvent {
  sequence: number;
  stageName: string | null;
  phase: string;
  message: string;
  completed: number | null;
  total: number | null;
}

const PROGRESS = `subscription StagecraftPromotionProgress($id: ID!, $after: Int) {
  promotionProgress(promotionId: $id, afterSequence: $after) { sequence stageName phase message completed total }
}`;

// ---------------------------------------------------------------------------------------------
// following the progress subscription

/** Consecutive reconnection attempts without a new event before giving up. */
const MAX_RECONNECTS = 8;
const reconnectDelay = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), 5_000);
/** A ping every KEEP_ALIVE ms; no pong within PONG_TIMEOUT ms counts as a dropped socket. */
const KEEP_ALIVE = 10_000;
const PONG_TIMEOUT = 5_000;

export function webSocketUrl(conn: Connection): string {
  const url = new URL('graphql', conn.base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * Follows promotionProgress until COMPLETED. When the socket drops, subscribes again after the
 * last sequence seen; the server replays stored events, so none is lost and none repeats.
 */
export async function followProgress(
  conn: Connection,
  promotionId: string,
  on: { event: (e: ProgressEvent) => void; notice: (text: string) => void },
): Promise<void> {
  const url = webSocketUrl(conn);
  let after = 0;
  let attempts = 0;
  for (;;) {
    const outcome = await subscribeOnce(url, conn.token, promotionId, after, (e) => {
      if (e.sequence <= after) return; // already shown
      after = e.sequence;
      attempts = 0;
      on.event(e);
    });
    if (outcome.done) return;
    attempts++;
    if (attempts > MAX_RECONNECTS) {
      throw new CliError(
        EXIT.FAILED,
        'CONNECTION_LOST',
        `lost the progress of promotion ${promotionId} (${outcome.reason}) and could not reconnect; it goes on on the server`,
      );
    }
    const delay = reconnectDelay(attempts);
    on.notice(`progress stream lost (${outcome.reason}); reconnecting in ${(delay / 1000).toFixed(1)}s${after ? ` after event ${after}` : ''}`);
    await sleep(delay);
  }
}

type Outcome = { done: true } | { done: false; reason: string };

/** One subscription on one socket: done after COMPLETED, not done when the socket drops. */
function subscribeOnce(url: string, token: string, promotionId: string, after: number, onEvent: (e: ProgressEvent) => void): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let pongTimer: NodeJS.Timeout | undefined;
    let completed = false;
    let settled = false;
    let client: Client;
    let unsubscribe: () => void = () => undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(pongTimer);
      unsubscribe();
      void client.dispose();
      fn();
    };
    client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      lazy: true,
      retryAttempts: 0, // the loop in followProgress reconnects, with the right afterSequence
      keepAlive: KEEP_ALIVE,
      on: {
        ping: (received) => {
          if (received) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => client.terminate(), PONG_TIMEOUT);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
      },
    });
    unsubscribe = client.subscribe<{ promotionProgress: ProgressEvent }>(
      { query: PROGRESS, variables: { id: promotionId, after } },
      {
        next: (result) => {
          if (result.errors?.length) return settle(() => reject(graphqlError(result.errors as never)));
          const event = result.data?.promotionProgress;
          if (!event) return;
          onEvent(event);
          if (event.phase === 'COMPLETED') completed = true;
        },
        error: (err) => settle(() => (isFatal(err) ? reject(fatalError(err)) : resolve({ done: false, reason: describeDrop(err) }))),
        complete: () => settle(() => resolve(completed ? { done: true } : { done: false, reason: 'the server ended the stream early' })),
      },
    );
  });
}

const closeCode = (err: unknown): number | null => (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number' ? (err as { code: number }).code : null);

/**
 * Refusals are fatal: GraphQL errors (an `error` message), graphql-ws close codes 4400-4499 that
 * a retry cannot change, and an HTTP 4xx answer to the upgrade. Drops are not: network errors,
 * 1xxx closes (going away, abnormal closure, restart …), timeouts and our own keep-alive
 * termination (4499).
 */
function isFatal(err: unknown): boolean {
  if (Array.isArray(err)) return true;
  const code = closeCode(err);
  if (code !== null) return code >= 4000 && ![4408, 4499, 4504].includes(code);
  return /Unexpected server response: 4\d\d/.test(errorMessage(err));
}

function fatalError(err: unknown): CliError {
  if (Array.isArray(err)) return graphqlError(err);
  const code = closeCode(err);
  if (code === 4403) return new CliError(EXIT.FAILED, 'UNAUTHENTICATED', 'the server refused the token for the progress subscription (4403 Forbidden)');
  if (code !== null) return new CliError(EXIT.FAILED, `WS_${code}`, `the server closed the progress subscription: ${(err as { reason?: string }).reason || 'no reason given'}`);
  return new CliError(EXIT.FAILED, 'WS_REFUSED', `the server refused the progress subscription: ${errorMessage(err)}`);
}

function describeDrop(err: unknown): string {
  const code = closeCode(err);
  if (code !== null) return `closed with ${code}${(err as { reason?: string }).reason ? ` ${(err as { reason: string }).reason}` : ''}`;
  return errorMessage(err);
}

/** ws reports socket errors as ErrorEvent-like objects: `{ message, error }`. */
function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object') {
    const { message, error } = err as { message?: unknown; error?: unknown };
    if (typeof message === 'string' && message) return message;
    if (error instanceof Error) return error.message;
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// showing progress

interface StageState {
  phase: string;
  completed: number | null;
  total: number | null;
  message: string;
}

const BAR_WIDTH = 20;

/**
 * On a terminal stderr: a bar per stage, redrawn in place (at most every 50 ms); otherwise one
 * plain line per event. Notices (reconnecting …) go above the bars.
 */
export class ProgressView {
  private readonly tty: boolean;
  private readonly stages = new Map<string, StageState>();
  private footer = '';
  private drawn = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly io: CliIO,
    stageNames: string[],
  ) {
    this.tty = Boolean(io.stderr.isTTY) && io.env.TERM !== 'dumb';
    for (const name of stageNames) this.stages.set(name, { phase: 'QUEUED', completed: null, total: null, message: '' });
    if (this.tty) this.draw();
  }

  event(e: ProgressEvent) {
    if (!this.tty) {
      this.io.stderr.write(`${plainLine(e)}\n`);
      return;
    }
    if (e.stageName === null) this.footer = `${printable(e.phase)}: ${printable(e.message)}`;
    else {
      // SUCCEEDED and FAILED carry no counts: keep the last ones
      const before = this.stages.get(e.stageName);
      this.stages.set(e.stageName, { phase: e.phase, completed: e.completed ?? before?.completed ?? null, total: e.total ?? before?.total ?? null, message: e.message });
    }
    this.schedule();
  }

  notice(text: string) {
    if (!this.tty) {
      this.io.stderr.write(`${text}\n`);
      return;
    }
    this.draw(text);
  }

  finish() {
    if (!this.tty) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draw();
  }

  private schedule() {
    const wait = 50 - (Date.now() - this.lastDraw);
    if (wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.draw();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.draw();
      }, wait);
    }
  }

  /** Replaces the lines drawn last time; `notice` is written above them, to stay. */
  private draw(notice?: string) {
    this.lastDraw = Date.now();
    const columns = (this.io.stderr as { columns?: number }).columns || 80;
    const nameWidth = Math.max(...[...this.stages.keys()].map((n) => printable(n).length));
    const lines = [...this.stages].map(([name, s]) => stageLine(printable(name).padEnd(nameWidth), s));
    if (this.footer) lines.push(this.footer);
    const fit = (line: string) => (line.length >= columns ? `${line.slice(0, Math.max(columns - 2, 0))}…` : line);
    let out = this.drawn ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    if (notice) out += `${fit(notice)}\n`;
    for (const line of lines) out += `${fit(line)}\n`;
    this.io.stderr.write(out);
    this.drawn = lines.length;
  }
}

function stageLine(name: string, s: StageState): string {
  const fraction = s.phase === 'SUCCEEDED' ? 1 : s.total ? Math.min((s.completed ?? 0) / s.total, 1) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${(s.phase === 'FAILED' ? 'x' : '-').repeat(BAR_WIDTH - filled)}]`;
  const count = s.total !== null ? `${s.completed ?? 0}/${s.total}` : '';
  const message = s.message && s.phase !== 'QUEUED' ? `  ${printable(s.message)}` : '';
  return `${name}  ${bar}  ${printable(s.phase).padEnd(11)} ${count.padStart(7)}${message}`.trimEnd();
}

/** One event as a line: `qa: ASSET 3/6: API Swagger Petstore: SUCCESS`. */
export function plainLine(e: ProgressEvent): string {
  const count = e.total !== null ? ` ${e.completed ?? 0}/${e.total}` : '';
  return `${e.stageName !== null ? `${printable(e.stageName)}: ` : ''}${printable(e.phase)}${count}: ${printable(e.message)}`;
}
