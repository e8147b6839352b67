/**
 * The one access-control mechanism for GraphQL. Every root field carries either `@Requires(...)`
 * (a signed-in user holding all the listed privileges; none listed = any signed-in user) or
 * `@Public()`. The rule is recorded in the field's schema extensions, and the privilege-matrix
 * test walks the schema to check each field against the expected table and the live server.
 *
 * Gateway instance tokens are not users: they may use the fields that require GATEWAY_AGENT
 * (their group's configuration, heartbeats) and nothing else, public fields included. Both kinds
 * of field run `admit` below through type-graphql's auth checker, which guards queries,
 * mutations and subscriptions alike.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { Authorized, createParameterDecorator, Extensions, type AuthChecker } from 'type-graphql';
import type { Privilege } from '../domain/privileges.js';
import { AppError } from '../errors.js';
import type { Context } from './context.js';

export interface GuardExtension {
  public: boolean;
  privileges: Privilege[];
}

export function Requires(...privileges: Privilege[]): MethodDecorator & PropertyDecorator {
  const guard: GuardExtension = { public: false, privileges };
  return (target: object, key: string | symbol, descriptor?: PropertyDescriptor) => {
    Authorized(...privileges)(target, key, descriptor as PropertyDescriptor);
    Extensions({ guard })(target, key, descriptor as PropertyDescriptor);
  };
}

export function Public(): MethodDecorator & PropertyDecorator {
  const guard: GuardExtension = { public: true, privileges: [] };
  return (target: object, key: string | symbol, descriptor?: PropertyDescriptor) => {
    // Authorized() with no privileges only makes the auth checker run, so `admit` sees the field.
    Authorized()(target, key, descriptor as PropertyDescriptor);
    Extensions({ guard })(target, key, descriptor as PropertyDescriptor);
  };
}

export function assertPrivileges(user: Context['user'], required: readonly Privilege[]): asserts user is NonNullable<Context['user']> {
  if (!user) throw new AppError('UNAUTHENTICATED', 'sign in first: send Authorization: Bearer <token>');
  const missing = required.filter((p) => !user.privileges.includes(p));
  if (missing.length) {
    throw new AppError('FORBIDDEN', `this needs the ${missing.join(', ')} privilege${missing.length > 1 ? 's' : ''}`, { missing });
  }
}

/** The privilege that makes a field a gateway instance's; the only kind a gateway token may use. */
const GATEWAY_FIELD: Privilege = 'GATEWAY_AGENT';

/** May this caller use a field with this guard? Throws UNAUTHENTICATED or FORBIDDEN if not. */
export function admit(context: Pick<Context, 'user' | 'gateway'>, guard: GuardExtension): void {
  if (context.gateway) {
    if (guard.privileges.includes(GATEWAY_FIELD)) return;
    throw new AppError('FORBIDDEN', 'a gateway instance token may only receive its group’s configuration (gatewayConfig) and send heartbeats (gatewayHeartbeat)');
  }
  if (guard.public) return;
  assertPrivileges(context.user, guard.privileges);
}

function guardOf(info: GraphQLResolveInfo): GuardExtension | undefined {
  return (info.parentType.getFields()[info.fieldName]?.extensions as { guard?: GuardExtension } | undefined)?.guard;
}

export const authChecker: AuthChecker<Context, Privilege> = ({ context, info }, required) => {
  // A field with @Authorized but no guard extension (not written with @Requires) is held to its privileges.
  admit(context, guardOf(info) ?? { public: false, privileges: required });
  return true;
};

/** The signed-in user, for fields guarded by `@Requires` (which has already checked one exists). */
export function CurrentUser() {
  return createParameterDecorator<Context>(({ context }) => {
    assertPrivileges(context.user, []);
    return context.user;
  });
}
