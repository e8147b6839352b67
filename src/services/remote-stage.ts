/**
 * Talking to another Stagecraft instance (a stage) as a client: sign in with the stage's
 * credentials, ask what it runs and holds, and hand it an archive to import. Network failures
 * become STAGE_UNREACHABLE; the remote's own errors keep their code.
 */
import { AppError, type ErrorCode } from '../errors.js';

export interface RemoteAsset {
  id: string;
  type: string;
  name: string;
  checksum: string;
  version: string | null;
}

/** How long a stage may take to import an archive before we give up waiting for its report. */
const IMPORT_TIMEOUT_MS = 30 * 60 * 1000;

const knownCodes = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'VERSION_DOWNGRADE',
  'STAGE_UNREACHABLE',
  'LOCKED',
  'INTERNAL_SERVER_ERROR',
]);

const asCode = (code: unknown): ErrorCode => (typeof code === 'string' && knownCodes.has(code) ? (code as ErrorCode) : 'INTERNAL_SERVER_ERROR');

export class RemoteStage {
  private token: string | undefined;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly username: string,
    private readonly password: string,
    private readonly timeoutMs = 60_000,
  ) {}

  private async request(path: string, init: RequestInit & { timeoutMs?: number }): Promise<Response> {
    try {
      return await fetch(new URL(path, this.url), { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = (err as Error).name === 'TimeoutError' ? 'timed out' : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new AppError('STAGE_UNREACHABLE', `stage ${this.name} at ${this.url} is unreachable: ${detail}`, { stage: this.name });
    }
  }

  /**
   * One GraphQL request, answering data and errors as the remote gave them (partial results
   * are normal when several fields travel together). Only transport failures throw.
   */
  async queryRaw(
    query: string,
    variables: Record<string, unknown> = {},
    signedIn = true,
    retry = true,
  ): Promise<{ data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[] }> {
    if (signedIn && !this.token) await this.login();
    const res = await this.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      timeoutMs: 30_000,
    });
    RemoteStage.requests++;
    let body: Awaited<ReturnType<RemoteStage['queryRaw']>>;
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new AppError('STAGE_UNREACHABLE', `stage ${this.name} at ${this.url} did not answer as a Stagecraft instance (HTTP ${res.status})`, {
        stage: this.name,
      });
    }
    // Our session there expired or was revoked: sign in again, once.
    if (signedIn && retry && body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      this.token = undefined;
      return this.queryRaw(query, variables, signedIn, false);
    }
    return body;
  }

  /** GraphQL requests sent to any stage by this process (for tests and metrics). */
  static requests = 0;

  /** Turns a remote error into ours, keeping its code. */
  remoteError(error: { message: string; extensions?: { code?: string } }): AppError {
    return new AppError(asCode(error.extensions?.code), `stage ${this.name}: ${error.message}`, { stage: this.name });
  }

  private async graphql<T>(query: string, variables: Record<string, unknown> = {}, signedIn = true): Promise<T> {
    const body = await this.queryRaw(query, variables, signedIn);
    const error = body.errors?.[0];
    if (error) throw this.remoteError(error);
    return body.data as T;
  }

  async login(): Promise<void> {
    const data = await this.graphql<{ login: { token: string } }>(
      'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }',
      { u: this.username, p: this.password },
      false,
    );
    this.token = data.login.token;
  }

  /** Who we are signed in as there, and what that stage is. */
  async info(): Promise<{ stage: string; productVersion: string; privileges: string[] }> {
    const data = await this.graphql<{ serverInfo: { stage: string; productVersion: string }; me: { privileges: string[] } }>(
      '{ serverInfo { stage productVersion } me { privileges } }',
    );
    return { ...data.serverInfo, privileges: data.me.privileges };
  }

  async assets(ids: readonly string[]): Promise<Map<string, RemoteAsset>> {
    const found = new Map<string, RemoteAsset>();
    for (let i = 0; i < ids.length; i += 500) {
      const data = await this.graphql<{ assetsByIds: RemoteAsset[] }>('query($ids: [ID!]!) { assetsByIds(ids: $ids) { id type name checksum version } }', {
        ids: ids.slice(i, i + 500),
      });
      for (const a of data.assetsByIds) found.set(a.id, a);
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
    if (!this.token) await this.login();
    const res = await this.request(`/archive/import?${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/zip',
        authorization: `Bearer ${this.token}`,
        ...(passphrase ? { 'x-archive-passphrase': passphrase } : {}),
        ...(promotion ? { 'x-stagecraft-promotion': Buffer.from(JSON.stringify(promotion)).toString('base64url') } : {}),
      },
      body: new Uint8Array(archive),
      // The target applies the whole archive before it answers; large promotions take minutes.
      timeoutMs: IMPORT_TIMEOUT_MS,
    });
    let body: Record<string, any>;
    try {
      body = (await res.json()) as Record<string, any>;
    } catch {
      throw new AppError('STAGE_UNREACHABLE', `stage ${this.name} broke off the import (HTTP ${res.status})`, { stage: this.name });
    }
    if (res.status === 401 && retry) {
      this.token = undefined; // our session there expired: sign in again, once
      return this.importArchive(archive, query, passphrase, promotion, false);
    }
    if (!res.ok) {
      throw new AppError(asCode(body.error?.code), `stage ${this.name}: ${body.error?.message ?? `HTTP ${res.status}`}`, { stage: this.name });
    }
    return body;
  }

  /** The rollback this stage recorded for a promotion's import, if any. */
  async rollbackFor(promotionId: string): Promise<Record<string, unknown> | null> {
    const data = await this.graphql<{ rollbacks: { edges: { node: Record<string, unknown> }[] } }>(
      `query($p: ID!) { rollbacks(filter: { promotionId: $p }, first: 1) { edges { node { ${REMOTE_ROLLBACK_FIELDS} } } } }`,
      { p: promotionId },
    );
    return data.rollbacks.edges[0]?.node ?? null;
  }

  async rollback(id: string, force: boolean): Promise<Record<string, unknown>> {
    const data = await this.graphql<{ rollback: Record<string, unknown> }>(
      `mutation($id: ID!, $force: Boolean!) { rollback(id: $id, force: $force) { ${REMOTE_ROLLBACK_FIELDS} } }`,
      { id, force },
    );
    return data.rollback;
  }
}

const REMOTE_ROLLBACK_FIELDS = 'id name description promotionId sourceStage promotedBy promotionTime rollbackTime status report { type name status }';
