/**
 * `node(id)` / `nodes(ids)` (Relay Global Object Identification): any global id this instance
 * issued, of this stage or of a remote one. This stage's objects are looked up here with the
 * privilege their own query needs; a remote stage's are asked of that stage (its `node`, with the
 * client's selection), batched with the request's other remote fields, one call per stage.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { Privilege } from '../../domain/privileges.js';
import { AppError, badInput } from '../../errors.js';
import { assetView, graphqlTypeOf } from '../assets/types.js';
import type { Context } from '../context.js';
import { resolveNodeRemotely } from '../federation/remote-fields.js';
import { asInstance, asRegistry } from '../gateways/resolver.js';
import { assertPrivileges, Requires } from '../guard.js';
import { asNode, NodeInterface } from '../node.js';
import { decodeGlobalId, type GlobalId, type NodeKind } from '../node-id.js';
import { asStage, localStage } from '../stages/resolver.js';
import { toGroup, toProfile } from '../users/access-resolver.js';
import { toUser } from '../users/resolver.js';

/** A lookup that finds nothing answers null; so does NOT_FOUND from a service's get-or-throw. */
const orNull = <T>(found: Promise<T>): Promise<T | null> => found.catch((err: unknown) => (err instanceof AppError && err.code === 'NOT_FOUND' ? null : Promise.reject(err)));

interface LocalNode {
  /** What the type's own query needs. */
  privileges: Privilege[];
  load(ctx: Context, key: string): Promise<object | null>;
}

const tagged = (typeName: string) => (value: object | null) => value && asNode(value, typeName);

/** How each kind of object of this stage is found; the GraphQL type name equals the kind except for assets. */
const local: Record<NodeKind, LocalNode> = {
  Asset: {
    privileges: [],
    load: async ({ loaders }, key) => {
      const row = await loaders.assetById.load(key);
      return row && asNode(assetView(row), graphqlTypeOf[row.type]);
    },
  },
  Stage: {
    privileges: [],
    load: async ({ services }, key) => {
      if (key === services.stage) return asNode(localStage(key), 'Stage');
      const row = await services.stages.byId(key).catch(() => null);
      return row && asNode(asStage(row), 'Stage');
    },
  },
  Promotion: { privileges: [], load: ({ services }, key) => orNull(services.promotions.get(key)).then(tagged('Promotion')) },
  Rollback: { privileges: [], load: ({ services }, key) => orNull(services.rollbacks.get(key)).then(tagged('Rollback')) },
  GatewayGroup: { privileges: [], load: ({ loaders }, key) => loaders.gateways.groupById.load(key).then(tagged('GatewayGroup')) },
  GatewayInstance: { privileges: [], load: async ({ services }, key) => tagged('GatewayInstance')(await services.gateways.instanceById(key).then((i) => i && asInstance(i))) },
  GatewayInstanceToken: { privileges: ['MANAGE_GATEWAY_GROUPS'], load: ({ services }, key) => services.gateways.tokenById(key).then(tagged('GatewayInstanceToken')) },
  ServiceVersion: { privileges: [], load: ({ services }, key) => orNull(services.gateways.version(key)).then(tagged('ServiceVersion')) },
  ServiceRegistry: { privileges: [], load: async ({ services }, key) => tagged('ServiceRegistry')(await services.gateways.registryById(key).then((r) => r && asRegistry(r))) },
  // Users see themselves (like `me`); others need MANAGE_USERS (like `users`). Checked in load.
  User: {
    privileges: [],
    load: async (ctx, key) => {
      if (ctx.user?.id !== key) assertPrivileges(ctx.user, ['MANAGE_USERS']);
      return tagged('User')(await orNull(ctx.services.users.get(key)).then((u) => u && toUser(ctx.services, u)));
    },
  },
  // Only one's own tokens, like `apiTokens`.
  ApiToken: {
    privileges: [],
    load: async ({ services, user }, key) => tagged('ApiToken')((await services.auth.listApiTokens(user!.id)).find((t) => t.id === key) ?? null),
  },
  ImportReport: { privileges: ['IMPORT_ASSETS'], load: ({ services }, key) => orNull(services.importReports.get(key)).then(tagged('ImportReport')) },
  ImportBackup: { privileges: ['IMPORT_ASSETS'], load: ({ services }, key) => services.importBackups.get(key).then(tagged('ImportBackup')) },
  // Profiles and groups are few (an administrator's lists): found among them, like their queries.
  AccessProfile: {
    privileges: ['MANAGE_USERS'],
    load: async ({ services }, key) => tagged('AccessProfile')((await services.access.listProfiles()).map(toProfile).find((p) => p.id === key) ?? null),
  },
  UserGroup: {
    privileges: ['MANAGE_USERS'],
    load: async ({ services }, key) => {
      const group = (await services.access.listGroups()).find((g) => g.id === key);
      return tagged('UserGroup')(group ? await toGroup(services, group) : null);
    },
  },
};

function decode(field: string, value: string): GlobalId {
  const id = decodeGlobalId(value);
  if (!id) throw badInput(`${field} must be a global id (the id field of an object)`, { field });
  return id;
}

/** The stages registered here, read once per request however many ids name them. */
const knownStages = new WeakMap<Context, Promise<Set<string>>>();
function stagesKnown(ctx: Context): Promise<Set<string>> {
  let known = knownStages.get(ctx);
  if (!known) knownStages.set(ctx, (known = ctx.services.stages.list().then((rows) => new Set(rows.map((s) => s.name)))));
  return known;
}

async function resolveNode(ctx: Context, id: GlobalId, info: GraphQLResolveInfo): Promise<unknown> {
  if (id.stage !== ctx.services.stage) {
    // Only stages this instance knows: an id naming another one was not issued here.
    if (!(await stagesKnown(ctx)).has(id.stage)) {
      throw badInput(`the id names stage ${id.stage}, which this instance does not know`, { field: 'id' });
    }
    // The remote stage answers with the stored promoter credentials, not the caller's: the caller
    // must hold here what the kind needs here. Users and tokens are checked by who asks (one's own),
    // and there the asker would be the promoter: another's user needs MANAGE_USERS, tokens are refused.
    assertPrivileges(ctx.user, local[id.kind].privileges);
    if (id.kind === 'ApiToken') throw new AppError('FORBIDDEN', 'API tokens are read only by their owner, on the stage that issued them');
    if (id.kind === 'User') assertPrivileges(ctx.user, ['MANAGE_USERS']);
    return resolveNodeRemotely(ctx, id.stage, id, info);
  }
  const kind = local[id.kind];
  assertPrivileges(ctx.user, kind.privileges);
  return kind.load(ctx, id.key);
}

@Resolver()
export class NodeResolver {
  @Requires()
  @Query(() => NodeInterface, { nullable: true, description: 'Any object by its global id, of this stage or of a remote one (remote stages need MANAGE_PROMOTIONS); null when it no longer exists.' })
  node(@Arg('id', () => ID, { description: 'A global id of any stage.' }) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<unknown> {
    return resolveNode(ctx, decode('id', id), info);
  }

  @Requires()
  @Query(() => [NodeInterface], {
    nullable: 'items',
    description: 'Objects by global id, in the order given (null where one does not exist, or with an error of its own where its stage fails); bounded like every list argument.',
  })
  nodes(@Arg('ids', () => [ID], { description: 'Global ids of any stages (bounded like every list argument).' }) ids: string[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<unknown>[] {
    const decoded = ids.map((id) => decode('ids', id));
    // One promise per item: an unreachable stage fails its own items (path [nodes, i]), not the list.
    return decoded.map((id) => resolveNode(ctx, id, info));
  }
}
