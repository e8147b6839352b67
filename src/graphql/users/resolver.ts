import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { privilegesOf } from '../../domain/privileges.js';
import type { UserEntity } from '../../entities/user.js';
import type { Context } from '../context.js';
import { CurrentUser, Public, Requires } from '../guard.js';
import type { AuthUser } from '../../services/auth.js';
import { ApiToken, AuthPayload, CreateApiTokenInput, CreatedApiToken, CreateUserInput, UpdateUserInput, User } from './types.js';

export const toUser = (u: UserEntity): User => ({
  id: u.id,
  username: u.username,
  role: u.role,
  privileges: [...privilegesOf[u.role]],
  createdAt: u.createdAt,
});

@Resolver()
export class UserResolver {
  @Public()
  @Query(() => User, { nullable: true, description: 'The signed-in user; null without a token.' })
  me(@Ctx() { user, services }: Context): Promise<User | null> | null {
    return user ? services.users.get(user.id).then(toUser) : null;
  }

  @Requires('MANAGE_USERS')
  @Query(() => [User])
  async users(@Ctx() { services }: Context): Promise<User[]> {
    return (await services.users.list()).map(toUser);
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
    @Arg('username') username: string,
    @Arg('password') password: string,
    @Ctx() { services, clientAddress }: Context,
  ): Promise<AuthPayload> {
    const { token, user } = await services.auth.login(username, password, clientAddress);
    return { token: token.token, expiresAt: token.expiresAt!, user: toUser(user) };
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
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @CurrentUser() user: AuthUser,
    @Ctx() { services, token, clientAddress }: Context,
  ): Promise<boolean> {
    await services.users.changeOwnPassword(user, currentPassword, newPassword, token, clientAddress);
    return true;
  }

  @Requires()
  @Mutation(() => CreatedApiToken)
  async createApiToken(@Arg('input') input: CreateApiTokenInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<CreatedApiToken> {
    const issued = await services.auth.createApiToken(user, input.name, input.expiresInDays);
    return { id: issued.id, token: issued.token, name: input.name.trim(), expiresAt: issued.expiresAt };
  }

  @Requires()
  @Mutation(() => ApiToken)
  revokeApiToken(@Arg('id', () => ID) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<ApiToken> {
    return services.auth.revokeApiToken(user, id);
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => User)
  async createUser(@Arg('input') input: CreateUserInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<User> {
    return toUser(await services.users.create(user, input));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => User)
  async updateUser(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateUserInput,
    @CurrentUser() user: AuthUser, @Ctx() { services, token }: Context,
  ): Promise<User> {
    return toUser(await services.users.update(user, id, input, token));
  }

  @Requires('MANAGE_USERS')
  @Mutation(() => Boolean)
  deleteUser(@Arg('id', () => ID) id: string, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<boolean> {
    return services.users.delete(user, id);
  }
}
