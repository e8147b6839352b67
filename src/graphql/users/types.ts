import { NodeInterface } from '../node.js';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { privileges, roles, type Privilege, type Role } from '../../domain/privileges.js';

/** GraphQL enums mirroring the domain's string unions. */
export const RoleEnum = Object.fromEntries(roles.map((r) => [r, r])) as { [K in Role]: K };
export const PrivilegeEnum = Object.fromEntries(privileges.map((p) => [p, p])) as { [K in Privilege]: K };
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'The built-in access profile a user holds directly; groups may grant more (see AccessProfile).',
  valuesConfig: {
    API_PROVIDER: { description: 'Manages assets, promotions, archives and gateway groups.' },
    SUPER_ADMIN: { description: 'Every privilege, users included.' },
    VIEWER: { description: 'Reads everything, changes nothing.' },
  },
});
registerEnumType(PrivilegeEnum, {
  name: 'Privilege',
  description: 'A functional privilege. Access profiles grant them; a user holds those of their role and of their groups’ profiles.',
  valuesConfig: {
    MANAGE_ASSETS: { description: 'Create, change and delete assets ("Manage assets").' },
    MANAGE_PROMOTIONS: { description: 'Stages, promotions and rollbacks ("Manage promotions").' },
    EXPORT_IMPORT: { description: 'Export and import together; held by whoever holds both EXPORT_ASSETS and IMPORT_ASSETS.', deprecationReason: 'Grant EXPORT_ASSETS and IMPORT_ASSETS.' },
    EXPORT_ASSETS: { description: 'Export archives ("Export assets").' },
    IMPORT_ASSETS: { description: 'Import archives and read import reports ("Import assets").' },
    MANAGE_GATEWAY_GROUPS: { description: 'Gateway groups, service versions, registries and instance tokens ("Manage gateway groups").' },
    MANAGE_USERS: { description: 'Users, groups and access profiles.' },
    GATEWAY_AGENT: { description: 'Held by gateway instance tokens only; no profile grants it.' },
  },
});

@ObjectType({ implements: NodeInterface, description: 'A person or pipeline that signs in to this instance.' })
export class User {
  @Field(() => ID, { description: 'The user’s id.' }) id!: string;
  @Field({ description: 'The sign-in name.' }) username!: string;
  @Field(() => RoleEnum, { description: 'The built-in access profile the user holds directly.' }) role!: Role;
  @Field(() => [PrivilegeEnum], { description: 'Everything the user may do: their role’s privileges and those of their groups’ profiles.' })
  privileges!: Privilege[];
  @Field({ description: 'When the user was created.' }) createdAt!: Date;
}

@ObjectType({ implements: NodeInterface, description: 'A named set of functional privileges. Groups hold profiles; the built-in ones (one per role) cannot be changed.' })
export class AccessProfile {
  @Field(() => ID, { description: 'Its id on this instance.' }) id!: string;
  @Field({ description: 'The name as typed; spaces allowed.' }) name!: string;
  @Field({ description: 'What it is for.' }) description!: string;
  @Field(() => [PrivilegeEnum], { description: 'What the profile grants.' }) privileges!: Privilege[];
  @Field({ description: 'One of the built-in profiles (SUPER_ADMIN, API_PROVIDER, VIEWER).' }) builtIn!: boolean;
}

@ObjectType({ implements: NodeInterface, description: 'A group of users; every profile it holds grants its privileges to every member.' })
export class UserGroup {
  @Field(() => ID, { description: 'Its id on this instance.' }) id!: string;
  @Field({ description: 'The name as typed; spaces allowed.' }) name!: string;
  @Field({ description: 'What it is for.' }) description!: string;
  @Field(() => [AccessProfile], { description: 'The profiles the group holds, by name.' }) profiles!: AccessProfile[];
  @Field(() => [User], { description: 'The members, by username.' }) members!: User[];
}

@InputType({ description: 'A new access profile.' })
export class CreateAccessProfileInput {
  @Field({ description: '1 to 100 characters; spaces allowed, trimmed.' }) name!: string;
  @Field({ nullable: true, description: 'What it is for; up to 1000 characters.' }) description?: string;
  @Field(() => [PrivilegeEnum], { description: 'What it grants (GATEWAY_AGENT is refused).' }) privileges!: Privilege[];
}

@InputType({ description: 'Changes to an access profile; omitted fields stay.' })
export class UpdateAccessProfileInput {
  @Field({ nullable: true, description: 'A new name; spaces allowed, trimmed.' }) name?: string;
  @Field({ nullable: true, description: 'What it is for; up to 1000 characters.' }) description?: string;
  @Field(() => [PrivilegeEnum], { nullable: true, description: 'Replaces what it grants.' }) privileges?: Privilege[];
}

@InputType({ description: 'A new group of users.' })
export class CreateUserGroupInput {
  @Field({ description: '1 to 100 characters; spaces allowed, trimmed.' }) name!: string;
  @Field({ nullable: true, description: 'What it is for; up to 1000 characters.' }) description?: string;
  @Field(() => [ID], { nullable: true, description: 'Access profiles the group holds.' }) profileIds?: string[];
  @Field(() => [ID], { nullable: true, description: 'Users in the group.' }) memberIds?: string[];
}

@InputType({ description: 'Changes to a group; a list given replaces the old one, an omitted one stays.' })
export class UpdateUserGroupInput {
  @Field({ nullable: true, description: 'A new name; spaces allowed, trimmed.' }) name?: string;
  @Field({ nullable: true, description: 'What it is for; up to 1000 characters.' }) description?: string;
  @Field(() => [ID], { nullable: true, description: 'Replaces the profiles the group holds.' }) profileIds?: string[];
  @Field(() => [ID], { nullable: true, description: 'Replaces the members.' }) memberIds?: string[];
}

@ObjectType({ description: 'A session: the token to send as Authorization: Bearer, and its user.' })
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header.' }) token!: string;
  @Field({ description: 'When the session ends.' }) expiresAt!: Date;
  @Field(() => User, { description: 'The signed-in user.' }) user!: User;
}

@ObjectType({ implements: NodeInterface, description: 'A long-lived token for pipelines. The token itself is shown only once, at creation.' })
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
