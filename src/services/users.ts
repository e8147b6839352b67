import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { roles, type Role } from '../domain/privileges.js';
import { UserEntity } from '../entities/user.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { appendEvent } from '../events/event-log.js';
import { toAuthUser, type AuthService, type AuthUser } from './auth.js';
import { announceCredentialChange } from './credential-changes.js';
import type { PasswordHasher } from './password-hasher.js';

export interface UserInput {
  username?: string;
  password?: string;
  role?: Role;
}

const USERNAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,63}$/;

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw badInput('username must be 2 to 64 letters, digits, dots, dashes or underscores', { field: 'username' });
  }
}

function checkPassword(password: string): void {
  if (password.length < 8 || password.length > 1024) {
    throw badInput('password must be 8 to 1024 characters', { field: 'password' });
  }
}

function checkRole(role: string): asserts role is Role {
  if (!(roles as readonly string[]).includes(role)) throw badInput(`role must be one of ${roles.join(', ')}`, { field: 'role' });
}

export class UserService {
  constructor(
    private readonly db: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
  ) {}

  list(): Promise<UserEntity[]> {
    return this.db.getRepository(UserEntity).find({ order: { username: 'ASC' } });
  }

  async get(id: string): Promise<UserEntity> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ id });
    if (!user) throw notFound('user', id);
    return user;
  }

  async create(actor: AuthUser, input: Required<UserInput>): Promise<UserEntity> {
    checkUsername(input.username);
    checkPassword(input.password);
    checkRole(input.role);
    const passwordHash = await this.hasher.hash(input.password);
    return this.db.transaction(async (tx) => {
      const inserted = await tx
        .getRepository(UserEntity)
        .createQueryBuilder()
        .insert()
        .values({ username: input.username, passwordHash, role: input.role })
        .orIgnore()
        .returning('*')
        .execute();
      if (inserted.raw.length === 0) throw conflict(`user ${input.username} already exists`, { field: 'username' });
      const user = await tx.getRepository(UserEntity).findOneByOrFail({ username: input.username });
      await appendEvent(tx, 'audit', 'USER_CREATED', { actor: actor.username, userId: user.id, username: user.username, role: user.role });
      return user;
    });
  }

  /**
   * A new password ends the user's sessions — all of them, or, when users change their own
   * password, all but `actorToken` (the session making the change). Every change announces
   * itself, so open sockets of the user are re-checked (a lower role closes them).
   */
  async update(actor: AuthUser, id: string, input: UserInput, actorToken: string | null = null): Promise<UserEntity> {
    if (input.username !== undefined) checkUsername(input.username);
    if (input.password !== undefined) checkPassword(input.password);
    if (input.role !== undefined) checkRole(input.role);
    const passwordHash = input.password === undefined ? undefined : await this.hasher.hash(input.password);
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(UserEntity);
      const user = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('user', id);
      if (input.role && input.role !== 'SUPER_ADMIN' && user.role === 'SUPER_ADMIN') await this.keepOneSuperAdmin(tx, id);
      if (input.username && input.username !== user.username && (await repo.existsBy({ username: input.username }))) {
        throw conflict(`user ${input.username} already exists`, { field: 'username' });
      }
      Object.assign(user, {
        ...(input.username !== undefined && { username: input.username }),
        ...(input.role !== undefined && { role: input.role }),
        ...(passwordHash !== undefined && { passwordHash }),
      });
      await repo.save(user);
      if (passwordHash !== undefined) await this.auth.endSessions(tx, id, actor.id === id ? actorToken : null);
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'USER_UPDATED', {
        actor: actor.username,
        userId: id,
        changed: Object.keys(input).filter((k) => input[k as keyof UserInput] !== undefined),
      });
      return user;
    });
  }

  /** A user changing their own password: the current one first, then as update (other sessions end). */
  async changeOwnPassword(actor: AuthUser, currentPassword: string, newPassword: string, actorToken: string | null, clientAddress: string | null): Promise<void> {
    if (actor.id.startsWith('gateway:')) throw new AppError('FORBIDDEN', 'only users have a password to change');
    checkPassword(newPassword);
    await this.auth.verifyOwnPassword(actor.id, currentPassword, clientAddress);
    await this.update(actor, actor.id, { password: newPassword }, actorToken);
  }

  async delete(actor: AuthUser, id: string): Promise<boolean> {
    if (id === actor.id) throw conflict('you cannot delete yourself');
    return this.db.transaction(async (tx) => {
      const user = await tx.getRepository(UserEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('user', id);
      if (user.role === 'SUPER_ADMIN') await this.keepOneSuperAdmin(tx, id);
      await tx.getRepository(UserEntity).delete({ id });
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'USER_DELETED', { actor: actor.username, userId: id, username: user.username });
      return true;
    });
  }

  /** Refuses to demote or delete the last SUPER_ADMIN (`except` is the one being changed). */
  private async keepOneSuperAdmin(tx: EntityManager, except: string): Promise<void> {
    // Locking the other admins' rows stops two concurrent demotions from each seeing the other.
    const others = await tx
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .select('u.id')
      .setLock('pessimistic_write')
      .where("u.role = 'SUPER_ADMIN' AND u.id <> :except", { except })
      .getMany();
    if (others.length === 0) throw conflict('the last SUPER_ADMIN cannot be removed or demoted');
  }

  /** The oldest SUPER_ADMIN, acting for the system (e.g. loading demo data). */
  async firstSuperAdmin(): Promise<AuthUser> {
    const user = await this.db.getRepository(UserEntity).findOne({ where: { role: 'SUPER_ADMIN' }, order: { createdAt: 'ASC' } });
    if (!user) throw notFound('user', 'SUPER_ADMIN');
    return toAuthUser(user);
  }

  /**
   * On first start, creates `admin` (SUPER_ADMIN). Returns the generated password when none was
   * configured, so the caller can print it once; undefined when admin already existed.
   */
  async ensureAdmin(configuredPassword: string | undefined): Promise<{ generatedPassword?: string } | undefined> {
    if ((await this.db.getRepository(UserEntity).count()) > 0) return undefined;
    const password = configuredPassword ?? randomBytes(12).toString('base64url');
    const result = await this.db
      .getRepository(UserEntity)
      .createQueryBuilder()
      .insert()
      .values({ username: 'admin', passwordHash: await this.hasher.hash(password), role: 'SUPER_ADMIN' })
      .orIgnore() // another replica may have won the race
      .execute();
    if (result.raw.length === 0) return undefined;
    return configuredPassword ? {} : { generatedPassword: password };
  }
}
