/**
 * `stagecraft promote`: plans or starts a promotion on a running server, for pipelines. With
 * --wait it follows the promotion's progress subscription over graphql-ws (reconnecting with
 * afterSequence when the socket drops, so no event is lost or shown twice), then prints the
 * per-stage result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { CliError, EXIT, parseCommandArgs, printable, usageError, type CliIO } from './command.js';
import { connectionHelp, connectionOptions, resolveConnection, serverRequest, type Connection } from './http.js';

export const promoteUsage =
  'usage: stagecraft promote --server URL --token TOKEN --name NAME --asset ID... --to STAGE[,STAGE...]\n' +
  '                          [--description D] [--optional all|none|selected] [--optional-id ID]...\n' +
  '                          [--overwrite-assets] [--overwrite-aliases] [--fix-missing-versions]\n' +
  '                          [--idempotency-key K] [--plan | --wait] [--json]';

const promoteHelp = `${promoteUsage}

Promotes the --asset ids (and their required dependencies; --optional picks the optional ones,
--optional-id implies selected) from the server's stage to the --to stages.

  --plan     print what each stage would get (CREATE, UPDATE, UNCHANGED, REFUSED); nothing is written
  --wait     follow the progress (a bar per stage on a terminal, one line per event otherwise),
             then print each stage's result
  --json     print the plan, the queued promotion or (with --wait) the finished one as JSON
  --idempotency-key K
             the same key and input return the same promotion instead of starting another
Without --plan or --wait, the promotion id is printed and the promotion runs on the server.
${connectionHelp}

Exit status: 0 done (every stage succeeded with --wait; nothing refused with --plan),
1 a stage failed (--wait) or has an error or a REFUSED asset (--plan), 2 bad command line,
3 the server refused the request or could not be reached.
`;

const promoteOptions = {
  ...connectionOptions,
  name: { type: 'string' },
  description: { type: 'string' },
  asset: { type: 'string', multiple: true },
  to: { type: 'string', multiple: true },
  optional: { type: 'string' },
  'optional-id': { type: 'string', multiple: true },
  'overwrite-assets': { type: 'boolean' },
  'overwrite-aliases': { type: 'boolean' },
  'fix-missing-versions': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  plan: { type: 'boolean' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Repeatable flags that also take comma-separated lists, without repeats. */
const list = (values: string[] | undefined) => [
  ...new Set(
    (values ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean),
  ),
];

export interface PromoteInput {
  name: string;
  description?: string;
  assetIds: string[];
  optional: 'ALL' | 'NONE' | 'SELECTED';
  optionalIds: string[];
  targetStages: string[];
  overwriteAssets: boolean;
  overwriteAliases: boolean;
  fixMissingVersions: boolean;
  idempotencyKey?: string;
}

/** The GraphQL PromoteInput from the command line; usage errors for what cannot be right. */
export function promoteInput(values: {
  name?: string;
  description?: string;
  asset?: string[];
  to?: string[];
  optional?: string;
  'optional-id'?: string[];
  'overwrite-assets'?: boolean;
  'overwrite-aliases'?: boolean;
  'fix-missing-versions'?: boolean;
  'idempotency-key'?: string;
  plan?: boolean;
}): PromoteInput {
  // A plan writes nothing, so it needs no name; the server still wants one.
  const name = values.name?.trim() || (values.plan ? 'plan' : '');
  if (!name) throw usageError('missing --name NAME (the promotion is listed under it)', promoteUsage);
  const assetIds = list(values.asset);
  if (!assetIds.length) throw usageError('choose what to promote: --asset ID', promoteUsage);
  const targetStages = list(values.to);
  if (!targetStages.length) throw usageError('choose the target stages: --to STAGE[,STAGE...]', promoteUsage);
  const optionalIds = list(values['optional-id']);
  const optional = (values.optional ?? (optionalIds.length ? 'selected' : 'none')).toUpperCase();
  if (!['ALL', 'NONE', 'SELECTED'].includes(optional)) throw usageError(`--optional must be all, none or selected (got "${values.optional}")`, promoteUsage);
  if (optional === 'SELECTED' && !optionalIds.length) throw usageError('--optional selected needs --optional-id ID', promoteUsage);
  if (optional !== 'SELECTED' && optionalIds.length) throw usageError('--optional-id goes with --optional selected', promoteUsage);
  const idempotencyKey = values['idempotency-key']?.trim();
  if (values['idempotency-key'] !== undefined && !idempotencyKey) throw usageError('--idempotency-key must not be empty', promoteUsage);
  return {
    name,
    ...(values.description !== undefined ? { description: values.description } : {}),
    assetIds,
    optional: optional as PromoteInput['optional'],
    optionalIds,
    targetStages,
    overwriteAssets: Boolean(values['overwrite-assets']),
    overwriteAliases: Boolean(values['overwrite-aliases']),
    fixMissingVersions: Boolean(values['fix-missing-versions']),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
}

export async function promoteCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(args, promoteOptions, promoteUsage);
  if (values.help) {
    io.stdout.write(promoteHelp);
    return EXIT.OK;
  }
  if (values.plan && values.wait) throw usageError('--plan writes nothing, so there is nothing to --wait for; give one of them', promoteUsage);
  const conn = resolveConnection(values, io, promoteUsage);
  const input = promoteInput(values);
  return values.plan ? plan(conn, input, io, Boolean(values.json)) : promote(conn, input, io, Boolean(values.wait), Boolean(values.json));
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP

/** `data` of a GraphQL request; the first error (with its code) as a CliError, exit 3. */
export async function graphqlRequest<T>(conn: Connection, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await serverRequest(conn, 'graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (Array.isArray(body?.errors) && body.errors.length) throw graphqlError(body.errors);
  if (!body?.data || typeof body.data !== 'object') throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', 'the server did not answer with GraphQL data');
  return body.data as T;
}

function graphqlError(errors: readonly { message?: unknown; extensions?: { code?: unknown } }[]): CliError {
  const first = errors[0]!;
  const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'GRAPHQL_ERROR';
  const message = typeof first.message === 'string' ? first.message : 'the server refused the request';
  return new CliError(EXIT.FAILED, code, errors.length > 1 ? `${message} (and ${errors.length - 1} more errors)` : message);
}

// ---------------------------------------------------------------------------------------------
// --plan

interface PlanItem {
  assetId: string;
  type: string;
  name: string;
  action: string;
  reason: string | null;
  aliasValue: string | null;
}
interface StagePlan {
  stageName: string;
  error: string | null;
  errorCode: string | null;
  items: PlanItem[];
}

const PLAN = `query StagecraftPromotionPlan($input: PromoteInput!) {
  promotionPlan(input: $input) { stages { stageName error errorCode items { assetId type name action reason aliasValue } } }
}`;

const ACTIONS = ['CREATE', 'UPDATE', 'UNCHANGED', 'REFUSED'];

async function plan(conn: Connection, input: PromoteInput, io: CliIO, json: boolean): Promise<number> {
  const { idempotencyKey: _key, ...planInput } = input;
  const data = await graphqlRequest<{ promotionPlan: { stages: StagePlan[] } }>(conn, PLAN, { input: planInput });
  const stages = data.promotionPlan?.stages;
  if (!Array.isArray(stages)) throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', 'the server did not answer with a promotion plan');
  io.stdout.write(json ? `${JSON.stringify(data.promotionPlan, null, 2)}\n` : formatPlan(stages));
  const blocked = stages.some((s) => s.error !== null || s.items.some((i) => i.action === 'REFUSED'));
  return blocked ? EXIT.INCOMPLETE : EXIT.OK;
}

/** Per stage: a summary line, then one line per asset (action, type, name, id, alias value, reason). */
export function formatPlan(stages: StagePlan[]): string {
  const lines: string[] = [];
  const typeWidth = Math.max(4, ...stages.flatMap((s) => s.items.map((i) => printable(i.type).length)));
  const actionWidth = Math.max(...ACTIONS.map((a) => a.length), ...stages.flatMap((s) => s.items.map((i) => printable(i.action).length)));
  for (const [index, stage] of stages.entries()) {
    if (index) lines.push('');
    const name = printable(stage.stageName);
    if (stage.error !== null) {
      lines.push(`stage ${name}: cannot plan: ${stage.errorCode ? `${printable(stage.errorCode)}: ` : ''}${printable(stage.error)}`);
      continue;
    }
    const counts = countBy(stage.items.map((i) => i.action), ACTIONS);
    lines.push(`stage ${name}: ${stage.items.length ? counts : 'nothing to promote'}`);
    for (const item of stage.items) {
      const alias = item.aliasValue !== null ? ` value ${printable(item.aliasValue)}` : '';
      const reason = item.reason ? `: ${printable(item.reason)}` : '';
      lines.push(`  ${printable(item.action).padEnd(actionWidth)}  ${printable(item.type).padEnd(typeWidth)}  ${printable(item.name)} (${printable(item.assetId)})${alias}${reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "4 CREATE, 2 UNCHANGED": known keys in their order first, then any others. */
function countBy(keys: string[], order: string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const known = order.filter((k) => counts.has(k));
  const others = [...counts.keys()].filter((k) => !order.includes(k)).sort();
  return [...known, ...others].map((k) => `${counts.get(k)} ${printable(k)}`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// promote (and --wait)

interface AssetReport {
  assetId: string;
  type: string;
  name: string;
  status: string;
  comment: string;
}
interface StageResult {
  stageName: string;
  status: string;
  reason: string | null;
  code: string | null;
  importReportId?: string | null;
  report?: AssetReport[];
}
interface Promotion {
  id: string;
  name: string;
  status: string;
  targetStages: string[];
  stages: StageResult[];
}

export interface ProgressEvent {
  sequence: number;
  stageName: string | null;
  phase: string;
  message: string;
  completed: number | null;
  total: number | null;
}

const PROMOTE = `mutation StagecraftPromote($input: PromoteInput!) {
  promote(input: $input) { id name status targetStages stages { stageName status reason code } }
}`;

const PROMOTION = `query StagecraftPromotion($id: ID!) {
  promotion(id: $id) { id name status targetStages
    stages { stageName status reason code importReportId report { assetId type name status comment } } }
}`;

const PROGRESS = `subscription StagecraftPromotionProgress($id: ID!, $after: Int) {
  promotionProgress(promotionId: $id, afterSequence: $after) { sequence stageName phase message completed total }
}`;

async function promote(conn: Connection, input: PromoteInput, io: CliIO, wait: boolean, json: boolean): Promise<number> {
  const { promote: queued } = await graphqlRequest<{ promote: Promotion }>(conn, PROMOTE, { input });
  if (!queued || typeof queued.id !== 'string' || !Array.isArray(queued.stages)) {
    throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', 'the server did not answer with a promotion');
  }
  const stageNames = queued.stages.map((s) => s.stageName);
  if (!wait) {
    io.stdout.write(json ? `${JSON.stringify(queued, null, 2)}\n` : `${printable(queued.id)}\n`);
    if (!json) io.stderr.write(`promotion "${printable(queued.name)}" to ${stageNames.map(printable).join(', ')}: ${printable(queued.status)}\n`);
    return EXIT.OK;
  }

  io.stderr.write(`promotion "${printable(queued.name)}" (${printable(queued.id)}) to ${stageNames.map(printable).join(', ')}: ${printable(queued.status)}\n`);
  const view = new ProgressView(io, stageNames);
  try {
    await followProgress(conn, queued.id, {
      event: (e) => view.event(e),
      notice: (text) => view.notice(text),
    });
  } finally {
    view.finish();
  }
  const { promotion } = await graphqlRequest<{ promotion: Promotion }>(conn, PROMOTION, { id: queued.id });
  if (!promotion || !Array.isArray(promotion.stages)) throw new CliError(EXIT.FAILED, 'UNEXPECTED_RESPONSE', 'the server did not answer with the promotion');
  io.stdout.write(json ? `${JSON.stringify(promotion, null, 2)}\n` : formatResult(promotion));
  return promotion.stages.length > 0 && promotion.stages.every((s) => s.status === 'SUCCESS') ? EXIT.OK : EXIT.INCOMPLETE;
}

const REPORT_STATUSES = ['CREATED', 'REPLACED', 'UNCHANGED', 'WARNING', 'FAILURE'];

/** Per stage: status, asset counts by status, code and reason; then every failed (or warned) asset. */
export function formatResult(promotion: Promotion): string {
  const lines = [`promotion ${printable(promotion.status)}: ${printable(promotion.name)} (${printable(promotion.id)})`];
  const header = ['stage', 'status', 'assets', 'result'];
  const rows = promotion.stages.map((s) => {
    const report = s.report ?? [];
    const assets = report.length ? `${report.length}: ${countBy(report.map((a) => a.status), REPORT_STATUSES)}` : '-';
    const result = `${s.code ? `${printable(s.code)}: ` : ''}${printable(s.reason ?? '')}`;
    return [printable(s.stageName), printable(s.status), assets, result];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  lines.push(row(header), ...rows.map(row));
  const notable = promotion.stages.flatMap((s) => (s.report ?? []).filter((a) => a.status === 'FAILURE' || a.status === 'WARNING').map((a) => ({ stage: s.stageName, ...a })));
  if (notable.length) {
    lines.push('');
    const stageWidth = Math.max(...notable.map((a) => printable(a.stage).length));
    const statusWidth = Math.max(...notable.map((a) => printable(a.status).length));
    for (const a of notable) {
      lines.push(`  ${printable(a.stage).padEnd(stageWidth)}  ${printable(a.status).padEnd(statusWidth)}  ${printable(a.type)} ${printable(a.name)} (${printable(a.assetId)}): ${printable(a.comment)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

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
