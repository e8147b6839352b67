import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { UserEntity } from '../../entities/user.js';
import type { Context } from '../context.js';
import { CurrentUser, Public, Requires } from '../guard.js';
import type { AuthUser } from '../../services/auth.js';
import { ApiToken, AuthPayload, CreateApiTokenInput, CreatedApiToken, CreateUserInput, UpdateUserInput, User } from './types.js';

/** Users as GraphQL shows them, with what their groups grant (one statement for all of them). */
export async function toUsers(services: Context['services'], users: readonly UserEntity[]): Promise<User[]> {
  const privileges = await services.access.privilegesOfUsers(users);
  return users.map((u) => ({ id: u.id, username: u.username, role: u.role, privileges: privileges.get(u.id) ?? [], createdAt: u.createdAt }));
}

export const toUser = async (services: Context['services'], u: UserEntity): Promise<User> => (await toUsers(services, [u]))[0]!;

@Resolver()
export class UserResolver {
  @Public()
  @Query(() => User, { nullable: true, description: 'The signed-in user; null without a token.' })
  me(@Ctx() { user, services }: Context): Promise<User | null> | null {
    return user ? services.users.get(user.id).then((u) => toUser(services, u)) : null;
  }

  @Requires('MANAGE_USERS')
  @Query(() => [User], { description: 'Every user.' })
  async users(@Ctx() { services }: Context): Promise<User[]> {
    return toUsers(services, await services.users.list());
  }

  @Requires()
  @Query(() => [ApiToken], { description: 'The signed-in user’s API tokens.' })
  apiTokens(@CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ApiToken[]> {
    return services.auth.listApiTokens(user.id);
  }

  @Public()
  @Mutation(() => AuthPayload, {
    description: 'Signs in. Repeated failures per username and per client address are answered TOO_MANY_REQUESTS (extensions.retryAfterSeconds) for a growing while.',
  })
  async login(
    @Arg('username', { description: 'The user’s name.' }) username: string,
    @Arg('password', { description: 'The user’s password.' }) password: string,
    @Ctx() { services, clientAddress }: Context,
  ): Promise<AuthPayload> {
    const { token, user } = await services.auth.login(username, password, clientAddress);
    return { token: token.token, expiresAt: token.expiresAt!, user: await toUser(services, user) };
  }

  @Requires()
  @Mutation(() => Boolean, { description: 'Revokes the token this request was made with.' })
  async logout(@Ctx() { token, services }: Context): Promise<boolean> {
    await services.auth.logout(token!);
    return true;
  }

  @Requires()
  @Mutation(() => Boolean, {
    description: 'Changes the signed-in user’s password; ends their other sessions (API tokens stay). Throttled like login.',
  })
  async changePassword(
    @Arg('currentPassword', { description: 'The password now.' }) currentPassword: string,
    @Arg('newPassword', { description: 'The new password (at least 8 characters).' }) newPassword: string,
    @CurrentUser() user: AuthUser,
    @Ctx() { services, token, clientAddress }: Context,
  ): Promise<boolean> {
    await services.users.changeOwnPassword(user, currentPassword, newPassword, token, clientAddress);
    return true;
  }

  @Requires()
  @Mutation(() => CreatedApiToken, { description: 'Creates an API token for the signed-in user (for pipelines); the secret is shown once.' })
  async createApiToken(@Arg('input', { description: 'The token’s name and lifetime.' }) input: CreateApiTokenInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<CreatedApiToken> {
    const issued = await services.auth.createApiToken(user, input.name, input.expiresInDays);
    return { id: issued.id, token: issued.token, name: input.name.trim(), expiresAt: issued.expiresAt };
  }

  @Requires()
  @Mutation(() => ApiToken, { description: 'Revokes one of the signed-in user’s API tokens (any user’s with MANAGE_USERS).' })
  revokeApiToken(@Arg('id', () => ID, { description: 'The token’s id.' }) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ApiToken> {
    return services.auth.revokeApiToken(user, id);
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => User, { description: 'Creates a user.' })
  async createUser(@Arg('input', { description: 'The new user.' }) input: CreateUserInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<User> {
    return toUser(services, await services.users.create(user, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => User, { description: 'Changes a user’s name, role or password.' })
  async updateUser(
    @Arg('id', () => ID, { description: 'The user’s id.' }) id: string,
    @Arg('input', { description: 'The fields to change.' }) input: UpdateUserInput,
    @CurrentUser() user: AuthUser, @Ctx() { services, token }: Context,
  ): Promise<User> {
    return toUser(services, await services.users.update(user, id, input, token));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => Boolean, { description: 'Deletes a user and ends their sessions and tokens.' })
  deleteUser(@Arg('id', () => ID, { description: 'The user’s id.' }) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<boolean> {
    return services.users.delete(user, id);
  }
}
