import { NodeInterface } from '../node.js';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { privileges, roles, type Privilege, type Role } from '../../domain/privileges.js';

/** GraphQL enums mirroring the domain's string unions. */
export const RoleEnum = Object.fromEntries(roles.map((r) => [r, r])) as { [K in Role]: K };
export const PrivilegeEnum = Object.fromEntries(privileges.map((p) => [p, p])) as { [K in Privilege]: K };
registerEnumType(RoleEnum, { name: 'Role', description: 'What a user may do; see Privilege.' });
registerEnumType(PrivilegeEnum, { name: 'Privilege' });

@ObjectType({ implements: NodeInterface, description: 'A person or pipeline that signs in to this instance.' })
export class User {
  @Field(() => ID) id!: string;
  @Field() username!: string;
  @Field(() => RoleEnum) role!: Role;
  @Field(() => [PrivilegeEnum]) privileges!: Privilege[];
  @Field() createdAt!: Date;
}

@ObjectType()
export class AuthPayload {
  @Field({ description: 'Bearer token for the Authorization header.' }) token!: string;
  @Field() expiresAt!: Date;
  @Field(() => User) user!: User;
}

@ObjectType({ implements: NodeInterface, description: 'A long-lived token for pipelines. The token itself is shown only once, at creation.' })
export class ApiToken {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiToken {
  @Field(() => ID) id!: string;
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
