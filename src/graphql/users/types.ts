import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { privileges, roles, type Privilege, type Role } from '../../domain/privileges.js';

/** GraphQL enums mirroring the domain's string unions. */
export const RoleEnum = Object.fromEntries(roles.map((r) => [r, r])) as { [K in Role]: K };
export const PrivilegeEnum = Object.fromEntries(privileges.map((p) => [p, p])) as { [K in Privilege]: K };
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'What a user may do; see Privilege.',
  valuesConfig: {
    API_PROVIDER: { description: 'Manages assets, promotions, archives and gateway groups.' },
    SUPER_ADMIN: { description: 'Every privilege, users included.' },
    VIEWER: { description: 'Reads everything, changes nothing.' },
  },
});
registerEnumType(PrivilegeEnum, {
  name: 'Privilege',
  description: 'A right a role grants.',
  valuesConfig: {
    EXPORT_IMPORT: { description: 'Export and import archives.' },
    GATEWAY_AGENT: { description: 'Gateway instances only: receive the group’s configuration, send heartbeats.' },
    MANAGE_ASSETS: { description: 'Create, change and delete assets.' },
    MANAGE_GATEWAY_GROUPS: { description: 'Manage gateway groups, publish and sync services.' },
    MANAGE_PROMOTIONS: { description: 'Manage stages, promote and roll back.' },
    MANAGE_USERS: { description: 'Manage users and read the audit log.' },
  },
});

@ObjectType({ description: 'A person or pipeline that signs in to this instance.' })
export class User {
  @Field(() => ID, { description: 'The user’s id.' }) id!: string;
  @Field({ description: 'The sign-in name.' }) username!: string;
  @Field(() => RoleEnum, { description: 'What the user may do.' }) role!: Role;
  @Field(() => [PrivilegeEnum], { description: 'The privileges the role grants.' }) privileges!: Privilege[];
  @Field({ description: 'When the user was created.' }) createdAt!: Date;
}

@ObjectType({ description: 'A session: the token to send as Authorization: Bearer, and its user.' })
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header.' }) token!: string;
  @Field({ description: 'When the session ends.' }) expiresAt!: Date;
  @Field(() => User, { description: 'The signed-in user.' }) user!: User;
}

@ObjectType({ description: 'A long-lived token for pipelines. The token itself is shown only once, at creation.' })
export class ApiToken {
  @Field(() => ID, { description: 'The token’s id (not the secret).' }) id!: string;
  @Field({ description: 'What the token is for, as its owner named it.' }) name!: string;
  @Field({ description: 'When the token was created.' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When the token stops working; null = never.' }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the token last signed a request; null = never used.' }) lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When it was revoked; null = still valid.' }) revokedAt!: Date | null;
}

@ObjectType({ description: 'A new API token; its secret is shown only here.' })
export class CreatedApiToken {
  @Field(() => ID, { description: 'The token’s id, to revoke it.' }) id!: string;
  @Field({ description: 'Shown once; store it now.' }) token!: string;
  @Field({ description: 'What the token is for.' }) name!: string;
  @Field(() => Date, { nullable: true, description: 'When the token stops working; null = never.' }) expiresAt!: Date | null;
}

@InputType({ description: 'A new user.' })
export class CreateUserInput {
  @Field({ description: 'The user’s sign-in name (unique).' }) username!: string;
  @Field({ description: 'Write-only: stored as an argon2 hash, never returned.' }) password!: string;
  @Field(() => RoleEnum, { description: 'What the user may do.' }) role!: Role;
}

@InputType({ description: 'Fields of a user to change.' })
export class UpdateUserInput {
  @Field({ nullable: true, description: 'New sign-in name.' }) username?: string;
  @Field({ nullable: true, description: 'New password (write-only).' }) password?: string;
  @Field(() => RoleEnum, { nullable: true, description: 'New role.' }) role?: Role;
}

@InputType({ description: 'A new API token for the signed-in user.' })
export class CreateApiTokenInput {
  @Field({ description: 'What the token is for.' }) name!: string;
  @Field(() => Int, { nullable: true, description: 'Days until it expires; never when omitted.' })
  expiresInDays?: number;
}
