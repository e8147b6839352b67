/**
 * Sign-in and bearer tokens. Passwords are hashed with argon2id; tokens are 256 random bits,
 * shown once and stored as a SHA-256 digest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { grantsToPrivileges, privilegesOfUser, type Privilege, type Role } from '../domain/privileges.js';
import { AccessTokenEntity, type TokenKind } from '../entities/access-token.js';
import { UserEntity } from '../entities/user.js';
import { AppError, badInput, notFound } from '../errors.js';
import { appendEvent } from '../events/event-log.js';
import { GROUP_GRANTS_SQL } from './access.js';
import { announceCredentialChange } from './credential-changes.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
/** How stale `last_used_at` may get before a request refreshes it (saves a write per request). */
const LAST_USED_RESOLUTION_MS = 60 * 1000;

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  privileges: readonly Privilege[];
}

/** The signed-in user; `granted` is what their groups' profiles grant (see AccessService). */
export const toAuthUser = (u: UserEntity, granted: readonly string[] = []): AuthUser => ({
  id: u.id,
  username: u.username,
  role: u.role,
  privileges: privilegesOfUser(u.role, grantsToPrivileges(granted)),
});

export const digestToken = (token: string) => createHash('sha256').update(token).digest('hex');
const digest = digestToken;

export interface IssuedToken {
  id: string;
  token: string;
  expiresAt: Date | null;
}

/** Who a live token stands for, and until when it may (null: until revoked). */
export interface Credential {
  user: AuthUser;
  expiresAt: Date | null;
}

/** The one rule for whether a stored token still counts. */
const isLive = (row: Pick<AccessTokenEntity, 'revokedAt' | 'expiresAt'>, now: number) => row.revokedAt === null && (!row.expiresAt || row.expiresAt.getTime() > now);

/**
 * A token with its user, as `credentials` reads it: only the columns the check and the context
 * need (no password hash), as the driver returns them, without an entity built for each.
 */
interface CredentialRow {
  id: string;
  tokenHash: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  userId: string;
  username: string;
  role: Role;
  grants: string[];
}
const CREDENTIALS_SQL = `SELECT t.id, t.token_hash AS "tokenHash", t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt",
  t.last_used_at AS "lastUsedAt", u.id AS "userId", u.username, u.role, ${GROUP_GRANTS_SQL} AS grants
FROM access_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = ANY($1::char(64)[]) AND t.revoked_at IS NULL`;

export class AuthService {
  constructor(
    private readonly db: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly sessionTtlMs: number,
  ) {}

  /** Until when a client address is locked out of sign-ins, as far as this replica knows (no I/O). */
  signInLockedUntil(clientAddress: string | null): number | null {
    return this.throttle.addressLockedUntil(clientAddress);
  }

  /**
   * Throttled before any hashing: a locked username or client address is answered
   * TOO_MANY_REQUESTS at once, even when the password would have been right.
   */
  async login(username: string, password: string, clientAddress: string | null = null): Promise<{ token: IssuedToken; user: UserEntity }> {
    this.hasher.assertCapacity();
    const keys = this.throttle.keys(username, clientAddress);
    await this.throttle.assertAllowed(keys);
    // Longer than any username can be: no such user, but the same work and answer as a wrong password.
    const user = username.length <= 64 ? await this.db.getRepository(UserEntity).findOneBy({ username }) : null;
    const ok = await this.hasher.verify(user?.passwordHash ?? null, password);
    if (!user || !ok) {
      await this.throttle.recordFailure(keys);
      throw new AppError('UNAUTHENTICATED', 'invalid username or password');
    }
    await this.throttle.recordSuccess(keys);
    const token = await this.issue(user.id, 'SESSION', 'login', new Date(Date.now() + this.sessionTtlMs));
    return { token, user };
  }

  /**
   * Checks a signed-in user's current password (before a change), throttled like login: guessing
   * it through a stolen session is no faster than through login.
   */
  async verifyOwnPassword(userId: string, password: string, clientAddress: string | null): Promise<void> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user) throw new AppError('FORBIDDEN', 'only users have a password to change');
    const keys = this.throttle.keys(user.username, clientAddress);
    await this.throttle.assertAllowed(keys);
    if (!(await this.hasher.verify(user.passwordHash, password))) {
      await this.throttle.recordFailure(keys);
      throw badInput('the current password is not correct', { field: 'currentPassword' });
    }
  }

  /** The user a bearer token belongs to, or UNAUTHENTICATED when it is unknown, expired or revoked. */
  async authenticate(token: string): Promise<AuthUser> {
    return (await this.credential(token)).user;
  }

  /** authenticate, with the token's expiry (for sockets, which must close when it passes). */
  async credential(token: string): Promise<Credential> {
    const found = (await this.credentials([token])).get(token);
    if (!found) throw new AppError('UNAUTHENTICATED', 'token is invalid, expired or revoked');
    return found;
  }

  /**
   * The live credentials among `tokens`, in one statement: what every open socket of a replica
   * is re-checked with when a credential changes. Tokens missing from the map are not live.
   */
  async credentials(tokens: readonly string[]): Promise<Map<string, Credential>> {
    const result = new Map<string, Credential>();
    if (!tokens.length) return result;
    const byDigest = new Map(tokens.map((t) => [digest(t), t]));
    // Every request runs this: one plain statement, the token, its user and what the user's groups grant.
    const rows: CredentialRow[] = await this.db.query(CREDENTIALS_SQL, [[...byDigest.keys()]]);
    const now = Date.now();
    const stale: string[] = [];
    for (const row of rows) {
      if (!isLive(row, now)) continue;
      const user: AuthUser = { id: row.userId, username: row.username, role: row.role, privileges: privilegesOfUser(row.role, grantsToPrivileges(row.grants)) };
      result.set(byDigest.get(row.tokenHash)!, { user, expiresAt: row.expiresAt });
      if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) stale.push(row.id);
    }
    if (stale.length) await this.db.getRepository(AccessTokenEntity).update({ id: In(stale) }, { lastUsedAt: new Date(now) });
    return result;
  }

  async logout(token: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const res = await tx.getRepository(AccessTokenEntity).update({ tokenHash: digest(token), revokedAt: IsNull() }, { revokedAt: new Date() });
      if (res.affected) await announceCredentialChange(tx);
    });
  }

  /**
   * Ends a user's sign-in sessions (after a password change), except `keep` — the session that
   * made the change, when the user changed their own password. API tokens stay: they are
   * separate credentials the user created, listed in `apiTokens` and revoked one by one.
   */
  async endSessions(tx: EntityManager, userId: string, keep: string | null): Promise<number> {
    const qb = tx
      .createQueryBuilder()
      .update(AccessTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where("user_id = :userId AND kind = 'SESSION' AND revoked_at IS NULL", { userId });
    if (keep) qb.andWhere('token_hash <> :keep', { keep: digest(keep) });
    const res = await qb.execute();
    if (res.affected) await announceCredentialChange(tx);
    return res.affected ?? 0;
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
        await announceCredentialChange(tx);
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
