import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { AccessProfileEntity } from '../../entities/access-profile.js';
import { profilePrivileges, type GroupView } from '../../services/access.js';
import type { AuthUser } from '../../services/auth.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';
import { toUsers } from './resolver.js';
import { AccessProfile, CreateAccessProfileInput, CreateUserGroupInput, UpdateAccessProfileInput, UpdateUserGroupInput, UserGroup } from './types.js';

export const toProfile = (p: AccessProfileEntity): AccessProfile => ({ id: p.id, name: p.name, description: p.description, builtIn: p.builtIn, privileges: profilePrivileges(p) });

export async function toGroup(services: Context['services'], g: GroupView): Promise<UserGroup> {
  return { id: g.id, name: g.name, description: g.description, profiles: g.profiles.map(toProfile), members: await toUsers(services, g.members) };
}

/** Access profiles and user groups: who may do what. All of it needs MANAGE_USERS. */
@Resolver()
export class AccessResolver {
  @Requires('MANAGE_USERS')
  @Query(() => [AccessProfile], { description: 'Every access profile: the built-in ones first, then by name.' })
  async accessProfiles(@Ctx() { services }: Context): Promise<AccessProfile[]> {
    return (await services.access.listProfiles()).map(toProfile);
  }

  @Requires('MANAGE_USERS')
  @Query(() => [UserGroup], { description: 'Every group of users, by name, with its profiles and members.' })
  async userGroups(@Ctx() { services }: Context): Promise<UserGroup[]> {
    return Promise.all((await services.access.listGroups()).map((g) => toGroup(services, g)));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => AccessProfile, { description: 'Creates an access profile. Names are unique (CONFLICT).' })
  async createAccessProfile(@Arg('input', { description: 'The new profile.' }) input: CreateAccessProfileInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<AccessProfile> {
    return toProfile(await services.access.createProfile(user, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => AccessProfile, { description: 'Changes an access profile (not a built-in one: CONFLICT). Open sockets of users who lose a privilege are closed.' })
  async updateAccessProfile(
    @Arg('id', () => ID, { description: 'The access profile’s id.' }) id: string,
    @Arg('input', { description: 'What changes.' }) input: UpdateAccessProfileInput,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<AccessProfile> {
    return toProfile(await services.access.updateProfile(user, id, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => Boolean, { description: 'Deletes an access profile no group holds (CONFLICT otherwise; built-in ones never).' })
  deleteAccessProfile(@Arg('id', () => ID, { description: 'The access profile’s id.' }) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<boolean> {
    return services.access.deleteProfile(user, id);
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => UserGroup, { description: 'Creates a group of users holding access profiles.' })
  async createUserGroup(@Arg('input', { description: 'The new group.' }) input: CreateUserGroupInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<UserGroup> {
    return toGroup(services, await services.access.createGroup(user, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => UserGroup, { description: 'Changes a group: its name, profiles or members. Open sockets of users who lose a privilege are closed.' })
  async updateUserGroup(
    @Arg('id', () => ID, { description: 'The group’s id.' }) id: string,
    @Arg('input', { description: 'What changes.' }) input: UpdateUserGroupInput,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<UserGroup> {
    return toGroup(services, await services.access.updateGroup(user, id, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => Boolean, { description: 'Deletes a group; its members lose what it granted.' })
  deleteUserGroup(@Arg('id', () => ID, { description: 'The group’s id.' }) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<boolean> {
    return services.access.deleteGroup(user, id);
  }
}
