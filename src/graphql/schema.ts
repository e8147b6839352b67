import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { ApiAssetResolver, AssetResolver, TeamAssetResolver } from './assets/resolver.js';
import { concreteAssetTypes } from './assets/types.js';
import { ArchiveResolver } from './archive/resolver.js';
import { AuditResolver } from './audit/resolver.js';
import { GatewayGroupResolver, GatewayInstanceTokenResolver, ServiceVersionResolver } from './gateways/resolver.js';
import { PromotionResolver, StageResultResolver } from './promotions/resolver.js';
import { RollbackResolver } from './rollbacks/resolver.js';
import { StageResolver, StageStatusResolver } from './stages/resolver.js';
import { answerRemoteDataFromItself } from './federation/remote-fields.js';
import { DriftResolver, StageGraphResolver } from './federation/stage-graph.js';
import { authChecker } from './guard.js';
import { UserResolver } from './users/resolver.js';
import { NodeResolver } from './nodes/resolver.js';
import { withGlobalIds } from './global-ids.js';

export const resolvers = [UserResolver, AuditResolver, AssetResolver, ApiAssetResolver, TeamAssetResolver, ArchiveResolver, StageResolver, StageStatusResolver, PromotionResolver, StageResultResolver, RollbackResolver, StageGraphResolver, DriftResolver, GatewayGroupResolver, GatewayInstanceTokenResolver, ServiceVersionResolver, NodeResolver] as const;

/**
 * Every subscription here has its own `subscribe` (the event log, which works across replicas);
 * type-graphql still insists on a pubSub. This one refuses use, so a topic-based subscription
 * added by mistake fails loudly instead of silently working on one replica only.
 */
const refusingPubSub: PubSub = {
  publish() {
    throw new Error('topic pubSub is not used: publish events with appendEvent()');
  },
  subscribe() {
    throw new Error('topic pubSub is not used: give the subscription a subscribe() over the event log');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/** The executable schema (built once per process: type-graphql metadata is global). */
export function createSchema(): Promise<GraphQLSchema> {
  // No global middleware: one would make every field of every query asynchronous (a promise per
  // field); remote answers are served by a synchronous wrapper installed on the built schema.
  built ??= buildSchema({
    resolvers,
    // Implementations of the Asset interface that no field names directly still belong in the schema.
    orphanedTypes: concreteAssetTypes,
    authChecker,
    authMode: 'error',
    validate: false,
    emitSchemaFile: false,
    pubSub: refusingPubSub,
  }).then((schema) => withGlobalIds(answerRemoteDataFromItself(schema)));
  return built;
}

/** The SDL kept in schema/schema.graphql, sorted so diffs stay readable. */
export async function printSDL(): Promise<string> {
  return printSchema(lexicographicSortSchema(await createSchema())) + '\n';
}
