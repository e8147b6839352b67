import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import { AuditResolver } from './audit/resolver.js';
import { authChecker } from './guard.js';
import { UserResolver } from './users/resolver.js';

export const resolvers = [UserResolver, AuditResolver] as const;

let built: Promise<GraphQLSchema> | undefined;

/** The executable schema (built once per process: type-graphql metadata is global). */
export function createSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers,
    authChecker,
    authMode: 'error',
    validate: false,
    emitSchemaFile: false,
    // Every subscription here has its own `subscribe` (the event log); type-graphql still insists
    // on a pubSub, so it gets an in-process one that nothing publishes to.
    pubSub: createPubSub(),
  });
  return built;
}

/** The SDL kept in schema/schema.graphql, sorted so diffs stay readable. */
export async function printSDL(): Promise<string> {
  return printSchema(lexicographicSortSchema(await createSchema())) + '\n';
}
