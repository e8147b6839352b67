/**
 * /graphql as an Apollo Federation 2 subgraph, built the way type-graphql documents it: the
 * type-graphql schema printed with its `@key` directives, handed to @apollo/subgraph's
 * `buildSubgraphSchema` with type-graphql's resolver map, plus `__resolveReference` for each
 * entity (entities.ts). The result is the schema the server runs: the API as before, plus
 * `_service { sdl }` and `_entities(representations)`.
 *
 * Both new root fields need a signed-in user, like introspection (`_service` is the schema):
 * a gateway composes with a token (or from `stagecraft schema --subgraph`) and forwards its
 * clients' Authorization header. `_entities` then admits each reference by the guard of the
 * equivalent query. (Not to be confused with src/graphql/federation/, which walks into other
 * stages.)
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  GraphQLError,
  Kind,
  parse,
  printSchema,
  visit,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type InterfaceTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import { createResolversMap } from 'type-graphql';
import type { Context } from '../context.js';
import { admit, type GuardExtension } from '../guard.js';
import { entityTypeNames, referenceResolvers, type Reference } from './entities.js';

/** Federation 2.3: `@key` on an interface (Asset), which other subgraphs extend with `@interfaceObject`. */
const FEDERATION_LINK = parse('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])');

/** As many references as `assetsByIds` takes ids: one gateway fetch of a large page. */
export const MAX_REPRESENTATIONS = 1000;

const SIGNED_IN: GuardExtension = { public: false, privileges: [] };

/**
 * The SDL of the type-graphql schema with the directives type-graphql recorded on each type's
 * AST node (`@Directive`). graphql-js's printSchema leaves applied directives out, and
 * @apollo/subgraph's printer reads a type only from its AST node, which type-graphql fills with
 * the directives alone — so the two are joined here.
 */
export function subgraphTypeDefs(api: GraphQLSchema): DocumentNode {
  const withDirectives = <T extends ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode>(node: T): T | undefined => {
    const directives: readonly ConstDirectiveNode[] = api.getType(node.name.value)?.astNode?.directives ?? [];
    return directives.length ? { ...node, directives: [...(node.directives ?? []), ...directives] } : undefined;
  };
  return visit(parse(printSchema(api)), {
    [Kind.OBJECT_TYPE_DEFINITION]: withDirectives,
    [Kind.INTERFACE_TYPE_DEFINITION]: withDirectives,
  });
}

/** The subgraph's own SDL, as `_service { sdl }` answers it (Federation directives included). */
export function printSubgraphSDL(subgraph: GraphQLSchema): string {
  const service = subgraph.getQueryType()!.getFields()._service!;
  return (service.extensions as { sdl: string }).sdl;
}

/** The executable subgraph schema over the type-graphql schema `api` (its resolvers, guards and limits). */
export function toSubgraphSchema(api: GraphQLSchema): GraphQLSchema {
  const resolvers = createResolversMap(api) as Record<string, Record<string, unknown>>;
  for (const [typename, reference] of Object.entries(referenceResolvers())) resolvers[typename] = { ...resolvers[typename], ...reference };
  const typeDefs = subgraphTypeDefs(api);
  const subgraph = buildSubgraphSchema({ typeDefs: [FEDERATION_LINK, typeDefs], resolvers: resolvers as never });
  carryExtensions(api, subgraph);
  guardFederationFields(subgraph);
  return subgraph;
}

/**
 * buildSubgraphSchema builds from SDL, which has no room for extensions: the guard of each field
 * (src/graphql/guard.ts, read at run time) and its cost (`complexity`) come over from `api`.
 */
function carryExtensions(api: GraphQLSchema, subgraph: GraphQLSchema): void {
  for (const [name, source] of Object.entries(api.getTypeMap())) {
    const target = subgraph.getType(name);
    if (!target || name.startsWith('__')) continue;
    if (Object.keys(source.extensions).length) Object.assign(target, { extensions: { ...source.extensions, ...target.extensions } });
    if (!('getFields' in source) || !('getFields' in target)) continue;
    const targetFields = target.getFields();
    for (const [fieldName, field] of Object.entries(source.getFields())) {
      const copy = targetFields[fieldName];
      if (copy && Object.keys(field.extensions).length) Object.assign(copy, { extensions: { ...field.extensions } });
    }
  }
}

/**
 * `_service` and `_entities` need a signed-in user (recorded as guards, like every root field);
 * `_entities` takes at most MAX_REPRESENTATIONS well-formed references of entity types, and
 * costs its selection once per reference.
 */
function guardFederationFields(subgraph: GraphQLSchema): void {
  const fields = subgraph.getQueryType()!.getFields();
  const service = fields._service!;
  const entities = fields._entities!;
  const sdl = (service.resolve!(undefined, {}, undefined, undefined as never) as { sdl: string }).sdl;

  const answerService = service.resolve!;
  Object.assign(service, {
    extensions: { ...service.extensions, guard: SIGNED_IN, sdl },
    resolve: ((root, args, context: Context, info) => {
      admit(context, SIGNED_IN);
      return answerService(root, args, context, info);
    }) satisfies GraphQLFieldResolver<unknown, Context>,
  });

  const resolveEntities = entities.resolve!;
  Object.assign(entities, {
    extensions: {
      ...entities.extensions,
      guard: SIGNED_IN,
      complexity: ({ args, childComplexity }: { args: { representations?: unknown[] }; childComplexity: number }) =>
        Math.max(1, args.representations?.length ?? 1) * (childComplexity + 1),
    },
    resolve: ((root, args: { representations: unknown[] }, context: Context, info) => {
      admit(context, SIGNED_IN);
      checkRepresentations(args.representations);
      return resolveEntities(root, args, context, info);
    }) satisfies GraphQLFieldResolver<unknown, Context, { representations: unknown[] }>,
  });
}

const entityTypes = new Set(entityTypeNames);

/** Refuses (BAD_USER_INPUT) a list that is too long or a reference that is not `{ __typename, id }` of an entity type. */
function checkRepresentations(representations: unknown[]): asserts representations is Reference[] {
  const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field: 'representations' } });
  if (representations.length > MAX_REPRESENTATIONS) throw refuse(`representations: at most ${MAX_REPRESENTATIONS} at a time (got ${representations.length})`);
  representations.forEach((reference, i) => {
    const { __typename, id } = (reference ?? {}) as Partial<Reference>;
    if (typeof __typename !== 'string' || !entityTypes.has(__typename)) {
      throw refuse(`representations[${i}].__typename must be one of ${[...entityTypes].join(', ')}`);
    }
    if (typeof id !== 'string' || id.length === 0) throw refuse(`representations[${i}].id must be a non-empty string (the entity's key)`);
  });
}
