/**
 * Access profiles and user groups (the administrator's side of privileges): profiles grant
 * functional privileges, groups hold profiles, users belong to groups. Every change announces a
 * credential change, so open sockets of the users it touches are re-checked at once (a privilege
 * taken away closes them, as a lowered role does).
 */
import { In, type DataSource, type EntityManager } from 'typeorm';
import { parseId, requireId } from '../db/ids.js';
import { isUniqueViolation } from '../db/errors.js';
import { displayNameProblem } from '../domain/names.js';
import { builtInProfiles, effectivePrivileges, grantsToPrivileges, isGrantable, isRole, privilegesOfUser, type GrantablePrivilege, type Privilege, type Role } from '../domain/privileges.js';
import { AccessProfileEntity, UserGroupEntity, UserGroupMemberEntity, UserGroupProfileEntity } from '../entities/access-profile.js';
import { UserEntity } from '../entities/user.js';
import { badInput, conflict, notFound } from '../errors.js';
import { appendEvent } from '../events/event-log.js';
import type { AuthUser } from './auth.js';
import { announceCredentialChange } from './credential-changes.js';

export interface ProfileInput {
  name?: string;
  description?: string;
  privileges?: string[];
}

export interface GroupInput {
  name?: string;
  description?: string;
  profileIds?: string[];
  memberIds?: string[];
}

export interface GroupView extends UserGroupEntity {
  profiles: AccessProfileEntity[];
  members: UserEntity[];
}

/** The most ids one group input may list (members, profiles). */
const MAX_IDS = 1000;
const MAX_DESCRIPTION = 1000;

/**
 * What a profile row grants, as a SQL expression over alias `p`: its privileges, or for a built-in
 * profile a `role:<name>` marker that `grantsToPrivileges` (domain) expands from the code's table.
 */
export const PROFILE_GRANTS_SQL = `CASE WHEN p.built_in THEN ARRAY['role:' || p.name]::varchar[] ELSE p.privileges END`;

/** The privileges a user's groups grant, as a SQL expression over the user alias `u` (one array per user). */
export const GROUP_GRANTS_SQL = `ARRAY(SELECT DISTINCT g FROM user_group_members m JOIN user_group_profiles gp ON gp.group_id = m.group_id JOIN access_profiles p ON p.id = gp.profile_id, unnest(${PROFILE_GRANTS_SQL}) AS g WHERE m.user_id = u.id)`;

/** What a profile grants, built-in or not. */
export function profilePrivileges(profile: Pick<AccessProfileEntity, 'builtIn' | 'name' | 'privileges'>): Privilege[] {
  if (profile.builtIn) return isRole(profile.name) ? effectivePrivileges(builtInProfiles[profile.name]) : [];
  return effectivePrivileges(profile.privileges);
}

function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  const problem = displayNameProblem(trimmed);
  if (problem) throw badInput(`${what} name ${problem}`, { field: 'name' });
  return trimmed;
}

function checkDescription(description: string): string {
  const problem = description.length > MAX_DESCRIPTION ? `must be at most ${MAX_DESCRIPTION} characters` : description.includes('\u0000') ? 'must not contain NUL characters' : null;
  if (problem) throw badInput(`description ${problem}`, { field: 'description' });
  return description;
}

function checkPrivileges(values: readonly string[]): GrantablePrivilege[] {
  if (values.length > 100) throw badInput('privileges: at most 100 entries', { field: 'privileges' });
  const bad = values.find((v) => !isGrantable(v));
  if (bad !== undefined) throw badInput('privileges: GATEWAY_AGENT belongs to gateway instance tokens and cannot be granted', { field: 'privileges' });
  return effectivePrivileges(values).filter((p): p is GrantablePrivilege => p !== 'EXPORT_IMPORT' && isGrantable(p));
}

function checkIds(field: string, values: readonly string[]): string[] {
  if (values.length > MAX_IDS) throw badInput(`${field}: at most ${MAX_IDS} ids`, { field });
  return [...new Set(values.map((v) => requireId(field, v)))];
}

export class AccessService {
  constructor(private readonly db: DataSource) {}

  /** Built-in profiles first, then the others by name. */
  listProfiles(): Promise<AccessProfileEntity[]> {
    return this.db.getRepository(AccessProfileEntity).find({ order: { builtIn: 'DESC', name: 'ASC' } });
  }

  async createProfile(actor: AuthUser, input: ProfileInput & { name: string }): Promise<AccessProfileEntity> {
    const name = checkName(input.name, 'profile');
    const description = checkDescription(input.description ?? '');
    const privileges = checkPrivileges(input.privileges ?? []);
    return this.db.transaction(async (tx) => {
      const profile = await this.saveUnique(tx, 'access profile', name, () => tx.getRepository(AccessProfileEntity).save({ name, description, privileges, builtIn: false }));
      await appendEvent(tx, 'audit', 'ACCESS_PROFILE_CREATED', { actor: actor.username, profileId: profile.id, name, privileges });
      return profile;
    });
  }

  async updateProfile(actor: AuthUser, id: string, input: ProfileInput): Promise<AccessProfileEntity> {
    const name = input.name === undefined ? undefined : checkName(input.name, 'profile');
    const description = input.description === undefined ? undefined : checkDescription(input.description);
    const privileges = input.privileges === undefined ? undefined : checkPrivileges(input.privileges);
    return this.db.transaction(async (tx) => {
      const profile = await this.lockedProfile(tx, id);
      Object.assign(profile, { ...(name !== undefined && { name }), ...(description !== undefined && { description }), ...(privileges !== undefined && { privileges }) });
      await this.saveUnique(tx, 'access profile', profile.name, () => tx.getRepository(AccessProfileEntity).save(profile));
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'ACCESS_PROFILE_UPDATED', { actor: actor.username, profileId: id, name: profile.name, privileges: profile.privileges });
      return profile;
    });
  }

  /** A profile still held by a group is not deleted: CONFLICT naming the groups. */
  async deleteProfile(actor: AuthUser, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const profile = await this.lockedProfile(tx, id);
      const holders = await tx
        .getRepository(UserGroupEntity)
        .createQueryBuilder('g')
        .innerJoin(UserGroupProfileEntity, 'gp', 'gp.group_id = g.id')
        .where('gp.profile_id = :id', { id: profile.id })
        .orderBy('g.name')
        .getMany();
      if (holders.length) {
        throw conflict(`access profile ${profile.name} is held by ${holders.length} group(s): ${holders.slice(0, 5).map((g) => g.name).join(', ')}`, { groups: holders.map((g) => g.id) });
      }
      await tx.getRepository(AccessProfileEntity).delete({ id: profile.id });
      await appendEvent(tx, 'audit', 'ACCESS_PROFILE_DELETED', { actor: actor.username, profileId: id, name: profile.name });
      return true;
    });
  }

  async listGroups(): Promise<GroupView[]> {
    const groups = await this.db.getRepository(UserGroupEntity).find({ order: { name: 'ASC' } });
    return this.withMembers(this.db.manager, groups);
  }

  async createGroup(actor: AuthUser, input: GroupInput & { name: string }): Promise<GroupView> {
    const name = checkName(input.name, 'group');
    const description = checkDescription(input.description ?? '');
    const profileIds = checkIds('profileIds', input.profileIds ?? []);
    const memberIds = checkIds('memberIds', input.memberIds ?? []);
    return this.db.transaction(async (tx) => {
      const group = await this.saveUnique(tx, 'group', name, () => tx.getRepository(UserGroupEntity).save({ name, description }));
      await this.setLinks(tx, group.id, profileIds, memberIds);
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'USER_GROUP_CREATED', { actor: actor.username, groupId: group.id, name, profileIds, memberIds });
      return (await this.withMembers(tx, [group]))[0]!;
    });
  }

  /** Lists given replace the group's profiles or members; omitted ones stay. */
  async updateGroup(actor: AuthUser, id: string, input: GroupInput): Promise<GroupView> {
    const name = input.name === undefined ? undefined : checkName(input.name, 'group');
    const description = input.description === undefined ? undefined : checkDescription(input.description);
    const profileIds = input.profileIds === undefined ? undefined : checkIds('profileIds', input.profileIds);
    const memberIds = input.memberIds === undefined ? undefined : checkIds('memberIds', input.memberIds);
    return this.db.transaction(async (tx) => {
      const group = await tx.getRepository(UserGroupEntity).findOne({ where: { id: parseId('group', id) }, lock: { mode: 'pessimistic_write' } });
      if (!group) throw notFound('group', id);
      Object.assign(group, { ...(name !== undefined && { name }), ...(description !== undefined && { description }) });
      await this.saveUnique(tx, 'group', group.name, () => tx.getRepository(UserGroupEntity).save(group));
      await this.setLinks(tx, group.id, profileIds, memberIds);
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'USER_GROUP_UPDATED', { actor: actor.username, groupId: id, changed: Object.keys(input).filter((k) => input[k as keyof GroupInput] !== undefined) });
      return (await this.withMembers(tx, [group]))[0]!;
    });
  }

  async deleteGroup(actor: AuthUser, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const group = await tx.getRepository(UserGroupEntity).findOne({ where: { id: parseId('group', id) }, lock: { mode: 'pessimistic_write' } });
      if (!group) throw notFound('group', id);
      await tx.getRepository(UserGroupEntity).delete({ id: group.id });
      await announceCredentialChange(tx);
      await appendEvent(tx, 'audit', 'USER_GROUP_DELETED', { actor: actor.username, groupId: id, name: group.name });
      return true;
    });
  }

  /** The privileges of users (their role and their groups), in one statement. */
  async privilegesOfUsers(users: readonly Pick<UserEntity, 'id' | 'role'>[]): Promise<Map<string, Privilege[]>> {
    const result = new Map<string, Privilege[]>();
    if (!users.length) return result;
    const rows: { id: string; grants: string[] }[] = await this.db.query(`SELECT u.id, ${GROUP_GRANTS_SQL} AS grants FROM users u WHERE u.id = ANY($1::uuid[])`, [users.map((u) => u.id)]);
    const grants = new Map(rows.map((r) => [r.id, r.grants]));
    for (const user of users) result.set(user.id, privilegesOfUser(user.role as Role, grantsToPrivileges(grants.get(user.id) ?? [])));
    return result;
  }

  /** The groups of users, by user id (for User.groups). */
  async groupsOfUsers(userIds: readonly string[]): Promise<Map<string, UserGroupEntity[]>> {
    const result = new Map<string, UserGroupEntity[]>(userIds.map((id) => [id, []]));
    if (!userIds.length) return result;
    const rows = await this.db
      .getRepository(UserGroupMemberEntity)
      .find({ where: { userId: In([...userIds]) }, relations: { group: true }, order: { group: { name: 'ASC' } } });
    for (const row of rows) result.get(row.userId)?.push(row.group);
    return result;
  }

  private async lockedProfile(tx: EntityManager, id: string): Promise<AccessProfileEntity> {
    const profile = await tx.getRepository(AccessProfileEntity).findOne({ where: { id: parseId('access profile', id) }, lock: { mode: 'pessimistic_write' } });
    if (!profile) throw notFound('access profile', id);
    if (profile.builtIn) throw conflict(`${profile.name} is a built-in access profile: it cannot be changed or deleted`, { field: 'id' });
    return profile;
  }

  /** Runs a save, turning a clash of names into CONFLICT. */
  private async saveUnique<T>(tx: EntityManager, what: string, name: string, save: () => Promise<T>): Promise<T> {
    try {
      // A savepoint, so the clash does not abort the surrounding transaction before we explain it.
      return await tx.transaction(save);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`${what} ${name} already exists`, { field: 'name' });
      throw err;
    }
  }

  private async setLinks(tx: EntityManager, groupId: string, profileIds: string[] | undefined, memberIds: string[] | undefined): Promise<void> {
    if (profileIds) {
      const found = await tx.getRepository(AccessProfileEntity).countBy({ id: In(profileIds) });
      if (found !== profileIds.length) throw badInput('profileIds: some ids are not access profiles', { field: 'profileIds' });
      await tx.getRepository(UserGroupProfileEntity).delete({ groupId });
      if (profileIds.length) await tx.getRepository(UserGroupProfileEntity).insert(profileIds.map((profileId) => ({ groupId, profileId })));
    }
    if (memberIds) {
      const found = await tx.getRepository(UserEntity).countBy({ id: In(memberIds) });
      if (found !== memberIds.length) throw badInput('memberIds: some ids are not users', { field: 'memberIds' });
      await tx.getRepository(UserGroupMemberEntity).delete({ groupId });
      if (memberIds.length) await tx.getRepository(UserGroupMemberEntity).insert(memberIds.map((userId) => ({ groupId, userId })));
    }
  }

  private async withMembers(manager: EntityManager, groups: UserGroupEntity[]): Promise<GroupView[]> {
    if (!groups.length) return [];
    const ids = groups.map((g) => g.id);
    const profiles = await manager.getRepository(UserGroupProfileEntity).find({ where: { groupId: In(ids) }, relations: { profile: true } });
    const members = await manager.getRepository(UserGroupMemberEntity).find({ where: { groupId: In(ids) }, relations: { user: true } });
    return groups.map((g) =>
      Object.assign(g, {
        profiles: profiles.filter((p) => p.groupId === g.id).map((p) => p.profile).sort((a, b) => a.name.localeCompare(b.name)),
        members: members.filter((m) => m.groupId === g.id).map((m) => m.user).sort((a, b) => a.username.localeCompare(b.username)),
      }),
    );
  }
}
