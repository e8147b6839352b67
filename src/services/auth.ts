/**
 * Sign-in and bearer tokens. Passwords are hashed with argon2id; tokens are 256 random bits,
 * shown once and stored as a SHA-256 digest.
 */
import argon2 from 'argon2';
import { createHash, randomBytes } from 'node:crypto';
import { IsNull, type DataSource } from 'typeorm';
import { privilegesOf, type Privilege, type Role } from '../domain/privileges.js';
import { AccessTokenEntity, type TokenKind } from '../entities/access-token.js';
import { UserEntity } from '../entities/user.js';
import { AppError, badInput, notFound } from '../errors.js';
import { appendEvent } from '../events/event-log.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How stale `last_used_at` may get before a request refreshes it (saves a write per request). */
const LAST_USED_RESOLUTION_MS = 60 * 1000;

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  privileges: readonly Privilege[];
}

export const toAuthUser = (u: UserEntity): AuthUser => ({
  id: u.id,
  username: u.username,
  role: u.role,
  privileges: privilegesOf[u.role],
});

export const hashPassword = (password: string) => argon2.hash(password, { type: argon2.argon2id });
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** Verifying against this when the user does not exist keeps the timing of both failures alike. */
let dummyHash: Promise<string> | undefined;

export interface IssuedToken {
  id: string;
  token: string;
  expiresAt: Date | null;
}

export class AuthService {
  constructor(private readonly db: DataSource) {}

  async login(username: string, password: string): Promise<{ token: IssuedToken; user: UserEntity }> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ username });
    const ok = user
      ? await argon2.verify(user.passwordHash, password)
      : await argon2.verify(await (dummyHash ??= hashPassword(randomBytes(16).toString('hex'))), password).then(() => false);
    if (!user || !ok) throw new AppError('UNAUTHENTICATED', 'invalid username or password');
    const token = await this.issue(user.id, 'SESSION', 'login', new Date(Date.now() + SESSION_TTL_MS));
    return { token, user };
  }

  /** The user a bearer token belongs to, or UNAUTHENTICATED when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<AuthUser> {
    // One statement (findOne with relations would first select DISTINCT ids, then the row).
    const row = await this.db
      .getRepository(AccessTokenEntity)
      .createQueryBuilder('t')
      .innerJoinAndSelect('t.user', 'u')
      .where('t.token_hash = :hash AND t.revoked_at IS NULL', { hash: digest(token) })
      .getOne();
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) {
      throw new AppError('UNAUTHENTICATED', 'token is invalid, expired or revoked');
    }
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.getRepository(AccessTokenEntity).update({ id: row.id }, { lastUsedAt: new Date() });
    }
    return toAuthUser(row.user);
  }

  async logout(token: string): Promise<void> {
    await this.db.getRepository(AccessTokenEntity).update({ tokenHash: digest(token), revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  async createApiToken(actor: AuthUser, name: string, expiresInDays?: number | null): Promise<IssuedToken> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100) throw badInput('name must be 1 to 100 characters', { field: 'name' });
    if (expiresInDays != null && (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > 3650)) {
      throw badInput('expiresInDays must be a whole number from 1 to 3650', { field: 'expiresInDays' });
    }
    const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
    return this.db.transaction(async (tx) => {
      const issued = await this.issue(actor.id, 'API', trimmed, expiresAt, tx.getRepository(AccessTokenEntity));
      await appendEvent(tx, 'audit', 'API_TOKEN_CREATED', { actor: actor.username, tokenId: issued.id, name: trimmed });
      return issued;
    });
  }

  listApiTokens(userId: string): Promise<AccessTokenEntity[]> {
    return this.db.getRepository(AccessTokenEntity).find({ where: { userId, kind: 'API' }, order: { createdAt: 'ASC' } });
  }

  /** Users revoke their own tokens; MANAGE_USERS revokes anyone's. */
  async revokeApiToken(actor: AuthUser, id: string): Promise<AccessTokenEntity> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(AccessTokenEntity);
      const row = await repo.findOneBy({ id, kind: 'API' });
      if (!row || (row.userId !== actor.id && !actor.privileges.includes('MANAGE_USERS'))) throw notFound('API token', id);
      if (!row.revokedAt) {
        row.revokedAt = new Date();
        await repo.save(row);
        await appendEvent(tx, 'audit', 'API_TOKEN_REVOKED', { actor: actor.username, tokenId: id });
      }
      return row;
    });
  }

  private async issue(
    userId: string,
    kind: TokenKind,
    name: string,
    expiresAt: Date | null,
    repo = this.db.getRepository(AccessTokenEntity),
  ): Promise<IssuedToken> {
    const token = `${kind === 'API' ? 'sct' : 'scs'}_${randomBytes(32).toString('base64url')}`;
    const row = await repo.save({ userId, kind, name, tokenHash: digest(token), expiresAt });
    return { id: row.id, token, expiresAt };
  }
}
