/**
 * Stages: the other instances this one promotes to, with credentials sealed at rest.
 */
import { isUniqueViolation } from '../db/errors.js';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { compareVersions } from '../domain/versions.js';
import { StageEntity } from '../entities/stage.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { SecretError, type SecretBox } from '../secrets.js';
import { productVersion } from '../version.js';
import { RemoteStage } from './remote-stage.js';

export interface StageInput {
  name?: string;
  description?: string | null;
  url?: string;
  username?: string;
  password?: string;
  keystoreAlias?: string | null;
  keyAlias?: string | null;
}

export interface StageTest {
  ok: boolean;
  message: string;
  remoteStage: string | null;
  productVersion: string | null;
  latencyMs: number | null;
}

const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const passwordContext = (name: string) => `stage-password:${name}`;

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badInput('url must look like http(s)://host:port', { field: 'url' });
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname || parsed.username || parsed.password || (parsed.pathname !== '/' && parsed.pathname !== '')) {
    throw badInput('url must look like http(s)://host:port (no path, no credentials)', { field: 'url' });
  }
  return `${parsed.protocol}//${parsed.host}`;
}

export class StageService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  list(): Promise<StageEntity[]> {
    return this.db.getRepository(StageEntity).find({ order: { name: 'ASC' } });
  }

  async get(name: string): Promise<StageEntity> {
    const stage = await this.db.getRepository(StageEntity).findOneBy({ name });
    if (!stage) throw notFound('stage', name);
    return stage;
  }

  /** Validates a full stage definition; the password is sealed, bound to the stage name. */
  private validate(input: Required<Pick<StageInput, 'name' | 'url' | 'username' | 'password'>> & StageInput): Omit<StageEntity, 'id' | 'createdAt' | 'updatedAt'> {
    if (!STAGE_NAME.test(input.name)) throw badInput('name must be lower-case letters, digits and dashes, starting with a letter', { field: 'name' });
    const url = checkUrl(input.url);
    if (!input.username.trim()) throw badInput('username must not be empty', { field: 'username' });
    if (!input.password) throw badInput('password must not be empty', { field: 'password' });
    if (url.startsWith('https:') && (!input.keystoreAlias || !input.keyAlias)) {
      throw badInput('an https stage needs keystoreAlias and keyAlias', { field: input.keystoreAlias ? 'keyAlias' : 'keystoreAlias' });
    }
    return {
      name: input.name,
      description: input.description ?? '',
      url,
      username: input.username.trim(),
      sealedPassword: this.secrets.seal(input.password, passwordContext(input.name)),
      keystoreAlias: input.keystoreAlias ?? null,
      keyAlias: input.keyAlias ?? null,
    };
  }

  async create(input: Required<Pick<StageInput, 'name' | 'url' | 'username' | 'password'>> & StageInput): Promise<StageEntity> {
    const row = this.validate(input);
    try {
      return await this.db.getRepository(StageEntity).save(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`stage ${input.name} already exists`, { field: 'name' });
      throw err;
    }
  }

  async update(name: string, changes: StageInput): Promise<StageEntity> {
    return this.db.transaction(async (tx) => {
      const current = await tx.getRepository(StageEntity).findOne({ where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound('stage', name);
      const newName = changes.name ?? current.name;
      const row = this.validate({
        name: newName,
        url: changes.url ?? current.url,
        username: changes.username ?? current.username,
        password: changes.password ?? this.secrets.open(current.sealedPassword, passwordContext(current.name)),
        description: changes.description === undefined ? current.description : changes.description,
        keystoreAlias: changes.keystoreAlias === undefined ? current.keystoreAlias : changes.keystoreAlias,
        keyAlias: changes.keyAlias === undefined ? current.keyAlias : changes.keyAlias,
      });
      if (newName !== name && (await tx.getRepository(StageEntity).existsBy({ name: newName }))) {
        throw conflict(`stage ${newName} already exists`, { field: 'name' });
      }
      await tx.getRepository(StageEntity).update({ id: current.id }, row);
      return tx.getRepository(StageEntity).findOneByOrFail({ id: current.id });
    });
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.getRepository(StageEntity).delete({ name });
    if (!result.affected) throw notFound('stage', name);
    return true;
  }

  /**
   * A client for a saved stage. Clients are kept per stage definition, so their sign-in is
   * reused across requests (a changed stage gets a new client).
   */
  async remote(name: string): Promise<RemoteStage> {
    const stage = await this.get(name);
    const key = `${stage.id}:${stage.updatedAt.getTime()}`;
    const cached = this.clients.get(stage.name);
    if (cached?.key === key) return cached.client;
    let password: string;
    try {
      password = this.secrets.open(stage.sealedPassword, passwordContext(stage.name));
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      throw new AppError(
        'INTERNAL_SERVER_ERROR',
        `cannot decrypt the password of stage ${stage.name}: this replica's secret key differs (give every replica the same STAGECRAFT_SECRET_KEY)`,
      );
    }
    const client = new RemoteStage(stage.name, stage.url, stage.username, password);
    this.clients.set(stage.name, { key, client });
    return client;
  }

  private readonly clients = new Map<string, { key: string; client: RemoteStage }>();

  /**
   * Reaches the stage, signs in, checks the user may promote there and that it does not run an
   * older product; reports what it found or exactly why it failed.
   */
  async test(target: RemoteStage): Promise<StageTest> {
    const started = performance.now();
    try {
      const info = await target.info();
      const latencyMs = Math.round(performance.now() - started);
      const base = { remoteStage: info.stage, productVersion: info.productVersion, latencyMs };
      if (!info.privileges.includes('MANAGE_PROMOTIONS')) {
        return { ok: false, message: `signed in, but the user lacks MANAGE_PROMOTIONS on stage ${target.name}`, ...base };
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

  /** A client for unsaved input (testStage before createStage). */
  remoteFor(input: Required<Pick<StageInput, 'name' | 'url' | 'username' | 'password'>>): RemoteStage {
    return new RemoteStage(input.name, checkUrl(input.url), input.username, input.password);
  }
}
