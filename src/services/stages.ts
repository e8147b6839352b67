/**
 * Stages: the other instances this one promotes to, with credentials sealed at rest.
 *
 * The stored password (and client key) must never reach anyone but the stage it was given
 * for: changing where a stage points (url, username, trusted CA) needs the password again,
 * every URL passes the outbound rule, and reading a remote stage on a caller's behalf with
 * these credentials needs the privilege the credentials stand for (REMOTE_READ_PRIVILEGE).
 */
import { isUniqueViolation } from '../db/errors.js';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import type { Privilege } from '../domain/privileges.js';
import { checkStageTls, type StageTls } from '../domain/stage-tls.js';
import { mayReceivePromotion } from '../domain/promotion-claim.js';
import { compareVersions } from '../domain/versions.js';
import { StageEntity } from '../entities/stage.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { SecretError, type SecretBox } from '../secrets.js';
import { productVersion } from '../version.js';
import type { AuthUser } from './auth.js';
import { OutboundPolicy } from './outbound.js';
import { RemoteStage, type StageConnection } from './remote-stage.js';
import type { Observer } from '../observability/observer.js';

export interface StageInput {
  name?: string;
  description?: string | null;
  url?: string;
  username?: string;
  password?: string;
  caCertificate?: string | null;
  clientCertificate?: string | null;
  /** Write-only: sealed at rest, never returned. */
  clientKey?: string | null;
}

export type FullStageInput = Required<Pick<StageInput, 'name' | 'url' | 'username' | 'password'>> & StageInput;

export interface StageTest {
  ok: boolean;
  message: string;
  remoteStage: string | null;
  productVersion: string | null;
  latencyMs: number | null;
}

/**
 * Reading a remote stage for a caller uses the stored promoter credentials, so it takes what
 * those credentials stand for: the caller may promote (VIEWERs and gateway tokens may not).
 */
export const REMOTE_READ_PRIVILEGE: Privilege = 'MANAGE_PROMOTIONS';

const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const MAX_DESCRIPTION = 2000;
const MAX_USERNAME = 64;
const MAX_PASSWORD = 1024;
const passwordContext = (name: string) => `stage-password:${name}`;
const clientKeyContext = (name: string) => `stage-client-key:${name}`;

/** A validated stage definition, secrets in plain text (sealed only when stored). */
interface StageDefinition extends StageConnection {
  description: string;
}

type StageRow = Omit<StageEntity, 'id' | 'createdAt' | 'updatedAt'>;

export class StageService {
  private readonly clients = new Map<string, { key: string; client: RemoteStage }>();
  /**
   * The instance's metrics and tracer, set once it has them (app.ts): remote calls are counted
   * with it directly, without a context manager carrying it (installed only while tracing is on).
   */
  observer: Observer | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly outbound: OutboundPolicy = new OutboundPolicy(),
  ) {}

  list(): Promise<StageEntity[]> {
    return this.db.getRepository(StageEntity).find({ order: { name: 'ASC' } });
  }

  async get(name: string): Promise<StageEntity> {
    const stage = await this.db.getRepository(StageEntity).findOneBy({ name });
    if (!stage) throw notFound('stage', name);
    return stage;
  }

  /** A registered stage by its row id, or null (for `node(id)`). */
  byId(id: string): Promise<StageEntity | null> {
    return this.db.getRepository(StageEntity).findOneBy({ id });
  }

  /** Validates a full stage definition; nothing is sealed or stored here. */
  private define(input: FullStageInput): StageDefinition {
    if (typeof input.name !== 'string' || !STAGE_NAME.test(input.name)) {
      throw badInput('name must be lower-case letters, digits and dashes (at most 40), starting with a letter', { field: 'name' });
    }
    const target = this.outbound.stageUrl(input.url);
    const username = input.username.trim();
    if (!username) throw badInput('username must not be empty', { field: 'username' });
    if (username.length > MAX_USERNAME || username.includes('\u0000')) throw badInput(`username must be at most ${MAX_USERNAME} characters, without NUL`, { field: 'username' });
    if (!input.password) throw badInput('password must not be empty', { field: 'password' });
    if (input.password.length > MAX_PASSWORD) throw badInput(`password must be at most ${MAX_PASSWORD} characters`, { field: 'password' });
    const description = input.description ?? '';
    if (description.length > MAX_DESCRIPTION || description.includes('\u0000')) {
      throw badInput(`description must be at most ${MAX_DESCRIPTION} characters, without NUL`, { field: 'description' });
    }
    const tls = checkStageTls(target.protocol, input);
    if (!tls.ok) throw badInput(`${tls.field} ${tls.reason}`, { field: tls.field });
    return { name: input.name, description, url: target.origin, username, password: input.password, tls: tls.value };
  }

  private seal(definition: StageDefinition): StageRow {
    const { name, description, url, username, password, tls } = definition;
    return {
      name,
      description,
      url,
      username,
      sealedPassword: this.secrets.seal(password, passwordContext(name)),
      caCertificate: tls.caCertificate,
      clientCertificate: tls.clientCertificate,
      sealedClientKey: tls.clientKey ? this.secrets.seal(tls.clientKey, clientKeyContext(name)) : null,
    };
  }

  async create(input: FullStageInput): Promise<StageEntity> {
    const row = this.seal(this.define(input));
    try {
      return await this.db.getRepository(StageEntity).save(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`stage ${input.name} already exists`, { field: 'name' });
      throw err;
    }
  }

  async update(name: string, changes: StageInput): Promise<StageEntity> {
    const updated = await this.db.transaction(async (tx) => {
      const current = await tx.getRepository(StageEntity).findOne({ where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound('stage', name);
      const stored = this.open(current);
      const clientCertificate = changes.clientCertificate === undefined ? current.clientCertificate : changes.clientCertificate;
      const definition = this.define({
        name: changes.name ?? current.name,
        url: changes.url ?? current.url,
        username: changes.username ?? current.username,
        password: changes.password ?? stored.password,
        description: changes.description === undefined ? current.description : changes.description,
        caCertificate: changes.caCertificate === undefined ? current.caCertificate : changes.caCertificate,
        clientCertificate,
        // Dropping the certificate drops its key.
        clientKey: changes.clientKey !== undefined ? changes.clientKey : clientCertificate ? stored.tls.clientKey : null,
      });
      // The stored password goes only where it was given for: a new destination or identity,
      // or a new trust anchor for it, needs it typed again.
      const repointed =
        definition.url !== current.url || definition.username !== current.username || (definition.tls.caCertificate ?? null) !== (current.caCertificate ?? null);
      if (repointed && changes.password === undefined) {
        throw badInput('changing url, username or caCertificate needs the password again (give password)', { field: 'password' });
      }
      if (definition.name !== name && (await tx.getRepository(StageEntity).existsBy({ name: definition.name }))) {
        throw conflict(`stage ${definition.name} already exists`, { field: 'name' });
      }
      await tx.getRepository(StageEntity).update({ id: current.id }, this.seal(definition));
      return tx.getRepository(StageEntity).findOneByOrFail({ id: current.id });
    });
    this.forget(name);
    return updated;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.getRepository(StageEntity).delete({ name });
    if (!result.affected) throw notFound('stage', name);
    this.forget(name);
    return true;
  }

  /** The stored secrets of a stage, opened (they are bound to the stage's name). */
  private open(stage: StageEntity): { password: string; tls: StageTls } {
    try {
      return {
        password: this.secrets.open(stage.sealedPassword, passwordContext(stage.name)),
        tls: {
          caCertificate: stage.caCertificate,
          clientCertificate: stage.clientCertificate,
          clientKey: stage.sealedClientKey ? this.secrets.open(stage.sealedClientKey, clientKeyContext(stage.name)) : null,
        },
      };
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        `cannot decrypt the credentials of stage ${stage.name}: this replica's secret key differs (give every replica the same STAGECRAFT_SECRET_KEY)`,
      );
    }
  }

  private forget(name: string): void {
    const cached = this.clients.get(name);
    this.clients.delete(name);
    void cached?.client.close();
  }

  /**
   * A client for a saved stage, for work the caller was already authorised for (a promotion
   * job, a rollback request). Clients are kept per stage definition, so one sign-in serves
   * every request until the stage changes; nothing signs in until a call is made.
   */
  async remote(name: string): Promise<RemoteStage> {
    const stage = await this.get(name);
    const key = `${stage.id}:${stage.updatedAt.getTime()}`;
    const cached = this.clients.get(stage.name);
    if (cached?.key === key) return cached.client;
    const { password, tls } = this.open(stage);
    // Re-checked here too: a URL saved before the rule (or before the allow-list changed).
    const url = this.outbound.stageUrl(stage.url).origin;
    const client = new RemoteStage({ name: stage.name, url, username: stage.username, password, tls }, this.outbound, this.observer);
    if (cached) void cached.client.close();
    this.clients.set(stage.name, { key, client });
    return client;
  }

  /** Refuses a caller who may not read remote stages with the stored credentials. */
  assertMayReadRemote(user: AuthUser | null, stageNames: readonly string[]): void {
    if (!user) throw new AppError('UNAUTHENTICATED', 'sign in first: send Authorization: Bearer <token>');
    if (!user.privileges.includes(REMOTE_READ_PRIVILEGE)) {
      const shown = stageNames.slice(0, 3).join(', ') + (stageNames.length > 3 ? ', …' : '');
      throw new AppError('FORBIDDEN', `reading remote stages (${shown}) uses their stored credentials: this needs the ${REMOTE_READ_PRIVILEGE} privilege`, {
        missing: [REMOTE_READ_PRIVILEGE],
      });
    }
  }

  /** A client for a saved stage, used on behalf of a caller reading it. */
  async remoteFor(user: AuthUser | null, name: string): Promise<RemoteStage> {
    this.assertMayReadRemote(user, [name]);
    return this.remote(name);
  }

  /**
   * Reaches the stage, signs in, checks the user may promote there and that it does not run an
   * older product; reports what it found or, in fixed words, why it failed.
   */
  async test(target: RemoteStage): Promise<StageTest> {
    const started = performance.now();
    try {
      const info = await target.info();
      const latencyMs = Math.round(performance.now() - started);
      const base = { remoteStage: info.stage, productVersion: info.productVersion, latencyMs };
      if (!mayReceivePromotion({ privileges: info.privileges as Privilege[] })) {
        return { ok: false, message: `signed in, but the user lacks MANAGE_PROMOTIONS or MANAGE_ASSETS on stage ${target.name}`, ...base };
      }
      if (compareVersions(info.productVersion, productVersion) < 0) {
        return { ok: false, message: `stage ${target.name} runs Stagecraft ${info.productVersion}, older than this ${productVersion}`, ...base };
      }
      return { ok: true, message: `reached stage ${info.stage} (Stagecraft ${info.productVersion}) in ${latencyMs} ms`, ...base };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { ok: false, message: `${err.code}: ${err.message}`, remoteStage: null, productVersion: null, latencyMs: null };
    }
  }

  /** Tests unsaved input (testStage before createStage) with a one-off client. */
  async testInput(input: FullStageInput): Promise<StageTest> {
    const client = new RemoteStage(this.define(input), this.outbound, this.observer);
    try {
      return await this.test(client);
    } finally {
      await client.close();
    }
  }
}
