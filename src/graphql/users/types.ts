import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { privileges, roles, type Privilege, type Role } from '../../domain/privileges.js';

/** GraphQL enums mirroring the domain's string unions. */
export const RoleEnum = Object.fromEntries(roles.map((r) => [r, r])) as { [K in Role]: K };
export const PrivilegeEnum = Object.fromEntries(privileges.map((p) => [p, p])) as { [K in Privilege]: K };
registerEnumType(RoleEnum, { name: 'Role', description: 'The built-in access profile a user holds directly; groups may grant more (see AccessProfile).' });
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

@ObjectType({ description: 'A person or pipeline that signs in to this instance.' })
export class User {
  @Field(() => ID) id!: string;
  @Field() username!: string;
  @Field(() => RoleEnum, { description: 'The built-in access profile the user holds directly.' }) role!: Role;
  @Field(() => [PrivilegeEnum], { description: 'Everything the user may do: their role’s privileges and those of their groups’ profiles.' })
  privileges!: Privilege[];
  @Field() createdAt!: Date;
}

@ObjectType({ description: 'A named set of functional privileges. Groups hold profiles; the built-in ones (one per role) cannot be changed.' })
export class AccessProfile {
  @Field(() => ID, { description: 'Its id on this instance.' }) id!: string;
  @Field({ description: 'The name as typed; spaces allowed.' }) name!: string;
  @Field({ description: 'What it is for.' }) description!: string;
  @Field(() => [PrivilegeEnum], { description: 'What the profile grants.' }) privileges!: Privilege[];
  @Field({ description: 'One of the built-in profiles (SUPER_ADMIN, API_PROVIDER, VIEWER).' }) builtIn!: boolean;
}

@ObjectType({ description: 'A group of users; every profile it holds grants its privileges to every member.' })
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

@ObjectType()
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header.' }) token!: string;
  @Field() expiresAt!: Date;
  @Field(() => User) user!: User;
}

@ObjectType({ description: 'A long-lived token for pipelines. The token itself is shown only once, at creation.' })
export class ApiToken {
  @Field(() => ID, { description: 'Its id on this instance.' }) id!: string;
  @Field() name!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiToken {
  @Field(() => ID, { description: 'Its id on this instance.' }) id!: string;
  @Field({ description: 'Shown once; store it now.' }) token!: string;
  @Field() name!: string;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
}

@InputType()
export class CreateUserInput {
  @Field() username!: string;
  @Field() password!: string;
  @Field(() => RoleEnum) role!: Role;
}

@InputType()
export class UpdateUserInput {
  @Field({ nullable: true }) username?: string;
  @Field({ nullable: true }) password?: string;
  @Field(() => RoleEnum, { nullable: true }) role?: Role;
}

@InputType()
export class CreateApiTokenInput {
  @Field() name!: string;
  @Field(() => Int, { nullable: true, description: 'Days until it expires; never when omitted.' })
  expiresInDays?: number;
}
