/**
 * The one access-control mechanism for GraphQL. Every root field carries either `@Requires(...)`
 * (a signed-in user holding all the listed privileges; none listed = any signed-in user) or
 * `@Public()`. The rule is recorded in the field's schema extensions, and the privilege-matrix
 * test walks the schema to check each field against the expected table and the live server.
 */
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

export const authChecker: AuthChecker<Context, Privilege> = ({ context }, required) => {
  assertPrivileges(context.user, required);
  return true;
};

/** The signed-in user, for fields guarded by `@Requires` (which has already checked one exists). */
export function CurrentUser() {
  return createParameterDecorator<Context>(({ context }) => {
    assertPrivileges(context.user, []);
    return context.user;
  });
}
