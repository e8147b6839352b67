/**
 * Talking to another Stagecraft instance (a stage) as a client: sign in with the stage's
 * credentials, ask what it runs and holds, and hand it an archive to import.
 *
 * What this client will not do, because the URL is user input and the credentials are prod's:
 * - follow a redirect (a 3xx is an error: the sign-in must never be re-sent elsewhere);
 * - connect to an address the outbound rule refuses, also after DNS resolution (rebinding);
 * - repeat what the remote said in an error. Failures read from a fixed vocabulary —
 *   unreachable, timed out, TLS handshake failed, redirect refused, HTTP <status>, not a
 *   Stagecraft instance, and the remote's error code — so this is no port scanner and no echo.
 * https stages use their own trust (CA) and client certificate on every request.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { AppError, type ErrorCode } from '../errors.js';
import { OUTBOUND_REFUSED, type OutboundPolicy } from './outbound.js';
import type { StageTls } from '../domain/stage-tls.js';
import { rawKey } from '../graphql/node-id.js';
import { context, trace } from '@opentelemetry/api';
import { currentObserver, type Observer } from '../observability/observer.js';
import { endSpan, SpanKind, traceHeaders } from '../observability/tracing.js';

export interface RemoteAsset {
  id: string;
  type: string;
  name: string;
  checksum: string;
  version: string | null;
}

/** What a client needs to reach one stage (the password and key in plain text, in memory only). */
export interface StageConnection {
  name: string;
  /** `http(s)://host:port`, already checked by the outbound rule. */
  url: string;
  username: string;
  password: string;
  tls: StageTls;
}

/** How long a stage may take to import an archive before we give up waiting for its report. */
const IMPORT_TIMEOUT_MS = 30 * 60 * 1000;
const QUERY_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** A remote answer larger than this is not a Stagecraft answer we asked for. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const knownCodes = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'VERSION_DOWNGRADE',
  'STAGE_UNREACHABLE',
  'LOCKED',
  'TOO_MANY_REQUESTS',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
]);

const asCode = (code: unknown): ErrorCode => (typeof code === 'string' && knownCodes.has(code) ? (code as ErrorCode) : 'INTERNAL_SERVER_ERROR');

/** The fixed words for what a remote's error code means; the remote's own message is never shown. */
const codeMeaning: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'refused our credentials (UNAUTHENTICATED)',
  FORBIDDEN: 'refused: the stage user lacks a privilege there (FORBIDDEN)',
  BAD_USER_INPUT: 'refused the request as bad input (BAD_USER_INPUT)',
  NOT_FOUND: 'does not hold it (NOT_FOUND)',
  CONFLICT: 'refused it as a conflict (CONFLICT)',
  VERSION_DOWNGRADE: 'runs an older Stagecraft than the archive (VERSION_DOWNGRADE)',
  STAGE_UNREACHABLE: 'could not reach a stage of its own (STAGE_UNREACHABLE)',
  LOCKED: 'is busy with another promotion (LOCKED)',
  TOO_MANY_REQUESTS: 'is refusing requests for now; try again later (TOO_MANY_REQUESTS)',
  SERVICE_UNAVAILABLE: 'cannot reach its own database (SERVICE_UNAVAILABLE)',
  INTERNAL_SERVER_ERROR: 'failed (INTERNAL_SERVER_ERROR)',
};

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY)_|HOSTNAME_MISMATCH$|EPROTO$)/;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Every code on an error and its causes (undici wraps socket and TLS errors). */
function codesOf(err: unknown): { codes: string[]; names: string[] } {
  const codes: string[] = [];
  const names: string[] = [];
  for (let e = err as { code?: unknown; name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    if (typeof e.name === 'string') names.push(e.name);
  }
  return { codes, names };
}

/** A transport failure in the fixed vocabulary. Closed, filtered and non-HTTP ports all read "unreachable". */
export function transportFailure(err: unknown): string {
  const { codes, names } = codesOf(err);
  if (codes.includes(OUTBOUND_REFUSED)) return 'refused by the outbound rule (link-local or metadata address; see STAGECRAFT_ALLOWED_HOSTS)';
  if (names.includes('TimeoutError') || codes.some((c) => TIMEOUT_CODES.has(c))) return 'timed out';
  if (codes.some((c) => TLS_CODES.test(c))) return 'TLS handshake failed';
  return 'unreachable';
}

/** A failed exchange as a metrics label: the fixed failure vocabulary, in one word. */
function outcomeOf(err: unknown): string {
  const message = err instanceof AppError ? err.message : transportFailure(err);
  if (message.includes('timed out')) return 'timeout';
  if (message.includes('TLS')) return 'tls';
  if (message.includes('outbound rule')) return 'refused';
  if (message.includes('redirect')) return 'redirect';
  if (message.includes('more than')) return 'too_large';
  return 'unreachable';
}

/** Drops a response body we will not read (its abort error is expected, not a failure). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

type GraphQLBody = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
};

const isGraphQLBody = (body: unknown): body is GraphQLBody =>
  !!body &&
  typeof body === 'object' &&
  !Array.isArray(body) &&
  ('data' in body || 'errors' in body) &&
  (!('errors' in body) || (Array.isArray((body as GraphQLBody).errors) && (body as GraphQLBody).errors!.every((e) => !!e && typeof e === 'object')));

export class RemoteStage {
  private token: string | undefined;
  /** One sign-in at a time: concurrent first calls share it (argon2 on the remote is expensive). */
  private signingIn: Promise<void> | undefined;
  private readonly dispatcher: Agent;
  readonly name: string;
  private readonly url: string;

  /**
   * `observer`: the instance's, when its owner knows it (StageService); otherwise the one in the
   * active context, which exists only while tracing is on (no context manager otherwise).
   */
  constructor(
    private readonly stage: StageConnection,
    policy: OutboundPolicy,
    private readonly observer: Observer | null = null,
  ) {
    this.name = stage.name;
    this.url = stage.url;
    const { caCertificate, clientCertificate, clientKey } = stage.tls;
    this.dispatcher = new Agent({
      connect: {
        timeout: CONNECT_TIMEOUT_MS,
        lookup: policy.lookup,
        ...(caCertificate ? { ca: caCertificate } : {}),
        ...(clientCertificate && clientKey ? { cert: clientCertificate, key: clientKey } : {}),
      },
      // The import waits for the whole archive to be applied; the request's own signal bounds it.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Closes this client's connections (a changed or deleted stage, a one-off test). */
  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }

  private failure(reason: string): AppError {
    return new AppError('STAGE_UNREACHABLE', `stage ${this.name} at ${this.url}: ${reason}`, { stage: this.name });
  }

  /** Refused: the remote's own error code with our fixed words for it. */
  private refusal(code: unknown): AppError {
    const known = asCode(code);
    return new AppError(known, `stage ${this.name} ${codeMeaning[known]}`, { stage: this.name });
  }

  /**
   * One HTTP exchange: no redirects, bounded in time and size, the body parsed as JSON.
   * Answers null for a body that is not JSON (the caller decides what that means).
   */
  private async exchange(path: string, init: { method: 'POST'; headers: Record<string, string>; body: string | Uint8Array; timeoutMs: number }): Promise<{ status: number; json: unknown }> {
    // Counted, timed and traced with the instance whose work this is; the span's trace context
    // travels in `traceparent`, so the stage's import joins the promotion's trace.
    const observer = this.observer ?? currentObserver();
    if (!observer) return this.exchangeOnce(path, init);
    const call = path.startsWith('/archive/import') ? 'import' : 'graphql';
    const started = performance.now();
    const span = observer.tracer?.startSpan(`stage ${call}`, { kind: SpanKind.CLIENT, attributes: { 'stagecraft.stage': this.name, 'server.address': new URL(this.url).host, 'url.path': path.split('?')[0]! } });
    const headers = span ? { ...init.headers, ...traceHeaders(trace.setSpan(context.active(), span)) } : init.headers;
    let outcome = 'ok';
    try {
      const answer = await this.exchangeOnce(path, { ...init, headers });
      if (answer.status >= 400) outcome = `http_${Math.floor(answer.status / 100)}xx`;
      return answer;
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      observer.metrics.observeRemoteCall(this.name, call, outcome, (performance.now() - started) / 1000);
      if (span) endSpan(span, outcome);
    }
  }

  private async exchangeOnce(path: string, init: { method: 'POST'; headers: Record<string, string>; body: string | Uint8Array; timeoutMs: number }): Promise<{ status: number; json: unknown }> {
    let res: Dispatcher.ResponseData;
    const signal = AbortSignal.timeout(init.timeoutMs);
    try {
      res = await request(new URL(path, this.url), { method: init.method, headers: init.headers, body: init.body, dispatcher: this.dispatcher, signal });
    } catch (err) {
      throw this.failure(transportFailure(err));
    }
    RemoteStage.requests++;
    if (res.statusCode >= 300 && res.statusCode < 400) {
      discard(res.body);
      throw this.failure(`redirect refused (HTTP ${res.statusCode})`);
    }
    let text = '';
    try {
      let bytes = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > MAX_RESPONSE_BYTES) {
          discard(res.body);
          throw this.failure(`answered more than ${MAX_RESPONSE_BYTES} bytes, not as a Stagecraft instance`);
        }
        chunks.push(chunk as Buffer);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw this.failure(transportFailure(err));
    }
    try {
      return { status: res.statusCode, json: JSON.parse(text) as unknown };
    } catch {
      return { status: res.statusCode, json: null };
    }
  }

  private notStagecraft(status: number): AppError {
    return this.failure(`answered HTTP ${status}, not as a Stagecraft instance`);
  }

  /**
   * One GraphQL request, answering data and errors as the remote gave them (partial results
   * are normal when several fields travel together). Only transport failures throw.
   */
  async queryRaw(query: string, variables: Record<string, unknown> = {}, signedIn = true, retry = true): Promise<GraphQLBody> {
    if (signedIn) await this.signIn();
    const { status, json } = await this.exchange('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(signedIn ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (!isGraphQLBody(json)) throw this.notStagecraft(status);
    // Our session there expired or was revoked: sign in again, once.
    if (signedIn && retry && json.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      this.token = undefined;
      return this.queryRaw(query, variables, signedIn, false);
    }
    return json;
  }

  /** GraphQL requests sent to any stage by this process (for tests and metrics). */
  static requests = 0;

  /** Turns a remote GraphQL error into ours: its code, our words. */
  remoteError(error: { extensions?: { code?: string } }): AppError {
    return this.refusal(error.extensions?.code);
  }

  private async graphql<T>(query: string, variables: Record<string, unknown> = {}, signedIn = true): Promise<T> {
    const body = await this.queryRaw(query, variables, signedIn);
    const error = body.errors?.[0];
    if (error) throw this.remoteError(error);
    if (!body.data || typeof body.data !== 'object') throw this.notStagecraft(200);
    return body.data as T;
  }

  /** Signs in unless a session is held; concurrent callers wait for the same sign-in. */
  private async signIn(): Promise<void> {
    if (this.token) return;
    this.signingIn ??= this.login().finally(() => (this.signingIn = undefined));
    await this.signingIn;
  }

  async login(): Promise<void> {
    const data = await this.graphql<{ login?: { token?: unknown } }>(
      'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
      { u: this.stage.username, p: this.stage.password },
      false,
    );
    if (typeof data.login?.token !== 'string') throw this.notStagecraft(200);
    this.token = data.login.token;
  }

  private ownName: Promise<string> | undefined;

  /** The stage's name for itself (what its global ids name), asked once per client. */
  ownStageName(): Promise<string> {
    this.ownName ??= this.info().then(
      (info) => info.stage,
      (err: unknown) => {
        this.ownName = undefined;
        throw err;
      },
    );
    return this.ownName;
  }

  /** Who we are signed in as there, and what that stage is. */
  async info(): Promise<{ stage: string; productVersion: string; privileges: string[] }> {
    const data = await this.graphql<{ serverInfo?: { stage?: unknown; productVersion?: unknown }; me?: { privileges?: unknown } }>(
      '{ serverInfo { stage productVersion } me { privileges } }',
    );
    const { serverInfo, me } = data;
    // What we repeat of the answer must look like what a Stagecraft answers, nothing else.
    if (
      typeof serverInfo?.stage !== 'string' ||
      !/^[a-z][a-z0-9-]{0,39}$/.test(serverInfo.stage) ||
      typeof serverInfo.productVersion !== 'string' ||
      !/^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,40})?$/.test(serverInfo.productVersion) ||
      !Array.isArray(me?.privileges)
    ) {
      throw this.notStagecraft(200);
    }
    this.ownName = Promise.resolve(serverInfo.stage);
    return { stage: serverInfo.stage, productVersion: serverInfo.productVersion, privileges: me.privileges.filter((p): p is string => typeof p === 'string') };
  }

  async assets(ids: readonly string[]): Promise<Map<string, RemoteAsset>> {
    const found = new Map<string, RemoteAsset>();
    for (let i = 0; i < ids.length; i += 500) {
      const data = await this.graphql<{ assetsByIds: RemoteAsset[] }>('query($ids: [ID!]!) { assetsByIds(ids: $ids) { id type name checksum version } }', {
        ids: ids.slice(i, i + 500),
      });
      // Ids come back as the stage's global ids (raw keys from an older one): keyed by raw key.
      for (const a of data.assetsByIds) found.set(rawKey(a.id), { ...a, id: rawKey(a.id) });
    }
    return found;
  }

  /** Sends an archive to the stage's import endpoint; returns its report. */
  async importArchive(
    archive: Buffer,
    query: URLSearchParams,
    passphrase: string | null,
    promotion: { id: string; name: string; description: string; promotedBy: string } | null = null,
    retry = true,
  ): Promise<Record<string, any>> {
    await this.signIn();
    const { status, json } = await this.exchange(`/archive/import?${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/zip',
        authorization: `Bearer ${this.token}`,
        ...(passphrase ? { 'x-archive-passphrase': passphrase } : {}),
        ...(promotion ? { 'x-stagecraft-promotion': Buffer.from(JSON.stringify(promotion)).toString('base64url') } : {}),
      },
      body: archive,
      // The target applies the whole archive before it answers; large promotions take minutes.
      timeoutMs: IMPORT_TIMEOUT_MS,
    });
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw this.failure(`broke off the import (HTTP ${status})`);
    const body = json as Record<string, any>;
    if (status === 401 && retry) {
      this.token = undefined; // our session there expired: sign in again, once
      return this.importArchive(archive, query, passphrase, promotion, false);
    }
    if (status < 200 || status >= 300) {
      if (body.error && typeof body.error === 'object') throw this.refusal(body.error.code);
      throw this.notStagecraft(status);
    }
    return body;
  }

  /** The rollback this stage recorded for a promotion's import, if any. */
  async rollbackFor(promotionId: string): Promise<Record<string, unknown> | null> {
    const data = await this.graphql<{ rollbacks: { edges: { node: Record<string, unknown> }[] } }>(
      `query($p: ID!) { rollbacks(filter: { promotionId: $p }, first: 1) { edges { node { ${REMOTE_ROLLBACK_FIELDS} } } } }`,
      { p: promotionId },
    );
    const found = data.rollbacks.edges[0]?.node;
    return found ? { ...found, id: rawKey(String(found.id)) } : null;
  }

  async rollback(id: string, force: boolean): Promise<Record<string, unknown>> {
    const data = await this.graphql<{ rollback: Record<string, unknown> }>(
      `mutation($id: ID!, $force: Boolean!) { rollback(id: $id, force: $force) { ${REMOTE_ROLLBACK_FIELDS} } }`,
      { id, force },
    );
    return { ...data.rollback, id: rawKey(String(data.rollback.id)) };
  }
}

const REMOTE_ROLLBACK_FIELDS = 'id name description promotionId sourceStage promotedBy promotionTime rollbackTime status report { type name status }';
