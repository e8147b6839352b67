import 'reflect-metadata';
import { assertInterfaceType, isAbstractType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type PubSub } from 'type-graphql';
import { ApiAssetResolver, AssetResolver, TeamAssetResolver } from './assets/resolver.js';
import { assetTypeName, concreteAssetTypes } from './assets/types.js';
import { ArchiveResolver } from './archive/resolver.js';
import { AuditResolver } from './audit/resolver.js';
import { GatewayGroupResolver, GatewayInstanceTokenResolver, ServiceVersionResolver } from './gateways/resolver.js';
import { PromotionResolver, StageResultResolver } from './promotions/resolver.js';
import { RollbackResolver } from './rollbacks/resolver.js';
import { StageResolver, StageStatusResolver } from './stages/resolver.js';
import { answerRemoteDataFromItself } from './federation/remote-fields.js';
import { DriftResolver, StageGraphResolver } from './federation/stage-graph.js';
import { directResolvers } from './direct-resolvers.js';
import { authChecker } from './guard.js';
import { printSubgraphSDL, toSubgraphSchema } from './subgraph/schema.js';
import { AccessResolver } from './users/access-resolver.js';
import { UserResolver } from './users/resolver.js';
import { NodeResolver } from './nodes/resolver.js';
import { nodeTypeName } from './node.js';
import { withGlobalIds } from './global-ids.js';

export const resolvers = [UserResolver, AccessResolver, AuditResolver, AssetResolver, ApiAssetResolver, TeamAssetResolver, ArchiveResolver, StageResolver, StageStatusResolver, PromotionResolver, StageResultResolver, RollbackResolver, StageGraphResolver, DriftResolver, GatewayGroupResolver, GatewayInstanceTokenResolver, ServiceVersionResolver, NodeResolver] as const;

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

let builtApi: Promise<GraphQLSchema> | undefined;
let built: Promise<GraphQLSchema> | undefined;

/** The API as type-graphql builds it (once per process: type-graphql metadata is global). */
export function createApiSchema(): Promise<GraphQLSchema> {
  // No global middleware: one would make every field of every query asynchronous (a promise per
  // field); remote answers are served by a synchronous wrapper installed on the built schema.
  builtApi ??= buildSchema({
    resolvers,
    // Implementations of the Asset interface that no field names directly still belong in the schema.
    orphanedTypes: concreteAssetTypes,
    authChecker,
    authMode: 'error',
    validate: false,
    emitSchemaFile: false,
    pubSub: refusingPubSub,
  })
    .then(synchronousTypeResolvers)
    .then((schema) => directResolvers(schema, resolvers))
    .then((schema) => withGlobalIds(answerRemoteDataFromItself(schema)))
    .then(describeRootTypes);
  return builtApi;
}

/** type-graphql has no decorator for the root types themselves; their descriptions are set here. */
function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  Object.assign(schema.getQueryType()!, { description: 'Reads. Every field but `me` needs a signed-in user.' });
  Object.assign(schema.getMutationType()!, { description: 'Changes. Each checks the privilege it needs; `login` is open to everyone.' });
  Object.assign(schema.getSubscriptionType()!, { description: 'Live streams over graphql-ws (graphql-transport-ws) at /graphql.' });
  return schema;
}

/** The executable schema /graphql serves: the API, also answering as a Federation 2 subgraph (subgraph/schema.ts). */
export function createSchema(): Promise<GraphQLSchema> {
  built ??= createApiSchema().then(toSubgraphSchema);
  return built;
}

/**
 * type-graphql makes every resolveType asynchronous: each Asset in an answer (a portal page lists
 * hundreds, with their dependencies) would cost a promise and a Promise.all round, and graphql-jit
 * (which runs repeated documents, server/compiled-executor.ts) takes only synchronous ones. Ours
 * are synchronous, so they go on the built schema as they are.
 */
function synchronousTypeResolvers(schema: GraphQLSchema): GraphQLSchema {
  assertInterfaceType(schema.getType('Asset')).resolveType = assetTypeName;
  assertInterfaceType(schema.getType('Node')).resolveType = nodeTypeName;
  return schema;
}

/**
 * The SDL kept in schema/schema.graphql, sorted so diffs stay readable: the API clients use,
 * without the Federation plumbing (`_service`, `_entities`, `@key` …) only gateways need.
 */
export async function printSDL(): Promise<string> {
  return printSchema(lexicographicSortSchema(await createApiSchema())) + '\n';
}

/**
 * The concrete types of each interface and union, as Apollo Client's `possibleTypes` wants them
 * (schema/possible-types.json): without it, fields selected through `... on ApiAsset` are dropped.
 */
export async function printPossibleTypes(): Promise<string> {
  const schema = await createApiSchema();
  const possibleTypes: Record<string, string[]> = {};
  for (const type of Object.values(schema.getTypeMap()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (isAbstractType(type) && !type.name.startsWith('__')) possibleTypes[type.name] = schema.getPossibleTypes(type).map((t) => t.name).sort();
  }
  return JSON.stringify(possibleTypes, null, 2) + '\n';
}

/** The subgraph SDL a supergraph composes (what `_service { sdl }` answers). */
export async function printSubgraph(): Promise<string> {
  return printSubgraphSDL(await createSchema()) + '\n';
}
