/**
 * How `_entities` finds each entity of the subgraph from its key (`id`), and who may: every
 * lookup goes through the query a client would use for the same object (`asset(id)`,
 * `promotion(id)` …), and is admitted by that query's guard, so a reference can never read what
 * the equivalent query would refuse. Anything not found is null, as Federation expects.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { isUuid } from '../../db/ids.js';
import { AppError } from '../../errors.js';
import type { Context } from '../context.js';
import { admit, type GuardExtension } from '../guard.js';
import { concreteAssetTypes, graphqlTypeOf } from '../assets/types.js';
import { localKey, nodeKinds, type NodeKind } from '../node-id.js';
import type { ListedAsset } from '../../services/asset-rows.js';

/** A representation the gateway sends: the type and the key. */
export interface Reference {
  __typename: string;
  id: string;
}

interface EntityLookup {
  /** The root query field whose guard admits the lookup. */
  guardedLike: string;
  find(id: string, context: Context, info: GraphQLResolveInfo): Promise<unknown>;
}

/** Runs a root query field's own resolver (type-graphql's, with its argument handling). */
async function query(info: GraphQLResolveInfo, field: string, args: Record<string, unknown>, context: Context): Promise<unknown> {
  const resolve = info.schema.getQueryType()!.getFields()[field]!.resolve!;
  return resolve(undefined, args, context, info);
}

/**
 * Not found is null for `_entities`, and so is a key that cannot name anything here (not an id
 * of this stage): the key came from another subgraph, not from a user typing it. Any other
 * refusal (forbidden, unreachable …) stays an error.
 */
async function orNull(lookup: () => Promise<unknown>): Promise<unknown> {
  try {
    return (await lookup()) ?? null;
  } catch (err) {
    if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'BAD_USER_INPUT')) return null;
    throw err;
  }
}

const assetLookup = (typename: string | null): EntityLookup => ({
  guardedLike: 'asset',
  async find(id, context, info) {
    const asset = (await query(info, 'asset', { id }, context)) as ListedAsset | null;
    // A reference typed ApiAsset must not come back as another type of asset.
    return asset && (typename === null || graphqlTypeOf[asset.type] === typename) ? asset : null;
  },
});

const lookups: Record<string, EntityLookup> = {
  Asset: assetLookup(null),
  ...Object.fromEntries(concreteAssetTypes.map((type) => [type.name, assetLookup(type.name)])),
  Promotion: { guardedLike: 'promotion', find: (id, context, info) => query(info, 'promotion', { id }, context) },
  Stage: {
    guardedLike: 'stage',
    async find(id, context, info) {
      const stages = (await query(info, 'stages', {}, context)) as { id: string }[];
      const local = (await query(info, 'stage', { name: context.services.stage }, context)) as { id: string };
      return [local, ...stages].find((stage) => stage.id === id) ?? null;
    },
  },
  GatewayGroup: { guardedLike: 'gatewayGroup', find: async (id, context) => (isUuid(id) ? context.loaders.gateways.groupById.load(id.toLowerCase()) : null) },
  ServiceVersion: { guardedLike: 'gatewayGroup', find: (id, context) => context.services.gateways.version(id) },
};

/** The types that carry `@key(fields: "id")`; a test checks this list against the schema. */
export const entityTypeNames: readonly string[] = Object.keys(lookups);

/** `__resolveReference` of every entity type, for buildSubgraphSchema's resolver map. */
export function referenceResolvers(): Record<string, { __resolveReference(reference: Reference, context: Context, info: GraphQLResolveInfo): Promise<unknown> }> {
  return Object.fromEntries(
    Object.entries(lookups).map(([typename, lookup]) => [
      typename,
      {
        async __resolveReference(reference: Reference, context: Context, info: GraphQLResolveInfo) {
          const guard = (info.schema.getQueryType()!.getFields()[lookup.guardedLike]!.extensions as { guard: GuardExtension }).guard;
          admit(context, guard);
          // Keys are global ids (or raw keys): one of another stage or kind names nothing here.
          const kind: NodeKind = (nodeKinds as readonly string[]).includes(typename) ? (typename as NodeKind) : 'Asset';
          return orNull(async () => lookup.find(localKey('id', String(reference.id), context.services.stage, kind), context, info));
        },
      },
    ]),
  );
}
