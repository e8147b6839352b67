import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../errors.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import type { AuthUser } from '../../services/auth.js';
import { PageArgs, toConnection, type Connection, type Order } from '../connection.js';
import type { Context } from '../context.js';
import type { Loaders, LookupLoader } from '../loaders.js';
import { selectedFieldNames } from '../selection.js';
import { CurrentUser, Requires } from '../guard.js';
import {
  Alias,
  ApiAsset,
  AssetConnection,
  AssetDependencies,
  AssetFilterInput,
  AssetInterface,
  AssetOrder,
  type AssetOrderField,
  assetView,
  CreateAssetInput,
  OptionalDependencies,
  TeamAsset,
  UpdateAssetInput,
} from './types.js';

// Roots are views (not entity instances): typed so, type-graphql passes them on as they are
// instead of copying each into a new instance for every field resolver call.
type View = ReturnType<typeof assetView>;
const views = (rows: readonly ListedAsset[]) => rows.map(assetView);

@Resolver(() => AssetInterface)
export class AssetResolver {
  @Requires()
  @Query(() => AssetInterface, { nullable: true, description: 'One asset of this stage by id; null if there is none.' })
  async asset(@Arg('id', () => ID, { description: 'The asset’s UUID.' }) id: string, @Ctx() { loaders }: Context): Promise<View | null> {
    const row = await loaders.assetById.load(id);
    return row && assetView(row);
  }

  @Requires()
  @Query(() => [AssetInterface], { description: 'The assets with these ids that exist here (used between stages).' })
  async assetsByIds(@Arg('ids', () => [ID], { description: 'The assets’ UUIDs (at most 1000).' }) ids: string[], @Ctx() { loaders }: Context): Promise<View[]> {
    if (ids.length > 1000) throw badInput('at most 1000 ids at a time', { field: 'ids' });
    const rows = await loaders.assetById.loadMany(ids);
    return rows.filter((r): r is ListedAsset => r !== null && !(r instanceof Error)).map(assetView);
  }

  @Requires()
  @Query(() => AssetConnection, { description: 'Assets in a stable order (by orderBy, then id), filtered and paged.' })
  async assets(
    @Arg('filter', () => AssetFilterInput, { nullable: true, description: 'Which assets.' }) filter: AssetFilterInput | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => AssetOrder, { nullable: true, description: 'How the assets are sorted (default: by name).' }) orderBy: Order<AssetOrderField> | null,
    @Ctx() { services, loaders }: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<View>> {
    const found = await services.assets.search(filter ?? {}, page, orderBy ?? undefined);
    for (const node of found.nodes) loaders.assetById.prime(node.id, node);
    await loadAhead(found.nodes, selectedFieldNames(info, ['edges', 'node']), loaders);
    return toConnection(found, assetView);
  }

  @Requires()
  @Query(() => [AssetInterface], {
    description: 'Everything that travels with these assets, in a valid apply order (dependencies first).',
  })
  async dependencyClosure(
    @Arg('assetIds', () => [ID], { description: 'The assets selected.' }) assetIds: string[],
    @Arg('optional', () => OptionalDependencies, { defaultValue: OptionalDependencies.NONE, description: 'Which optional dependencies travel.' }) optional: OptionalDependencies,
    @Arg('optionalIds', () => [ID], { nullable: true, description: 'The optional dependencies that travel when optional is SELECTED.' }) optionalIds: string[] | null,
    @Ctx() { services }: Context,
  ): Promise<View[]> {
    return views(await services.assets.closure(assetIds, optional, optionalIds ?? []));
  }

  @Requires()
  @Query(() => Alias, { description: 'The variant of an alias a promotion to this stage uses: bound to it, else unbound.' })
  async aliasFor(@Arg('name', { description: 'The alias’s name.' }) name: string, @Arg('stage', { description: 'The stage a promotion would go to.' }) stage: string, @Ctx() { services }: Context): Promise<View> {
    return assetView(await services.assets.aliasFor(name, stage));
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => AssetInterface, { description: 'Creates an asset on this stage.' })
  async createAsset(@Arg('input', { description: 'The new asset.' }) input: CreateAssetInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<View> {
    return assetView(await services.assets.create(user, input));
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => AssetInterface, { description: 'Changes an asset’s fields; the rest stays.' })
  async updateAsset(
    @Arg('id', () => ID, { description: 'The asset’s id.' }) id: string,
    @Arg('input', { description: 'The fields to change.' }) input: UpdateAssetInput,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<View> {
    // GraphQL null means "not given" for name, spec and references; "clear" for description/team/version.
    const { name, spec, references, ...rest } = input;
    return assetView(
      await services.assets.update(user, id, { ...rest, name: name ?? undefined, spec: spec ?? undefined, references: references ?? undefined }),
    );
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => Boolean, { description: 'CONFLICT, listing them, while other assets require this one.' })
  deleteAsset(@Arg('id', () => ID, { description: 'The asset’s id.' }) id: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.assets.delete(id);
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => ApiAsset, { description: 'A new version of an API, in the same version set, with the same content.' })
  async createApiVersion(
    @Arg('fromId', () => ID, { description: 'The API to copy into a new version of its version set.' }) fromId: string,
    @Arg('version', { description: 'The new version’s name, e.g. 2.0.' }) version: string,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<View> {
    return assetView(await services.assets.createApiVersion(user, fromId, version));
  }

  // The field resolvers below answer synchronously when their lookup was loaded ahead (loadAhead).

  @FieldResolver(() => AssetDependencies, { description: 'What the asset references: required ones always travel with it, optional ones when selected.' })
  dependencies(@Root() asset: View, @Ctx() { loaders }: Context): AssetDependencies | Promise<AssetDependencies> {
    return lookup(loaders.referencesFrom, asset.id, (refs) => ({
      required: views(refs.filter((r) => r.kind === 'REQUIRED').map((r) => r.asset)),
      optional: views(refs.filter((r) => r.kind === 'OPTIONAL').map((r) => r.asset)),
    }));
  }

  @FieldResolver(() => [AssetInterface], { description: 'Assets that reference this one.' })
  dependents(@Root() asset: View, @Ctx() { loaders }: Context): View[] | Promise<View[]> {
    return lookup(loaders.referencesTo, asset.id, (refs) => views(refs.map((r) => r.asset)));
  }

  @FieldResolver(() => TeamAsset, { nullable: true, description: 'The TEAM asset named by `team`.' })
  teamAsset(@Root() asset: View, @Ctx() { loaders }: Context): View | null | Promise<View | null> {
    if (!asset.team) return null;
    return lookup(loaders.teamByName, asset.team, (team) => team && assetView(team));
  }
}

@Resolver(() => ApiAsset)
export class ApiAssetResolver {
  @FieldResolver(() => [ApiAsset], { description: 'Every version of this API, by system version.' })
  versions(@Root() api: View, @Ctx() { loaders }: Context): View[] | Promise<View[]> {
    return api.versionSetId ? lookup(loaders.versionsOfSet, api.versionSetId, views) : [assetView(api)];
  }
}

/** `shape` of a lookup's value: at once when it is loaded already, else once it is. */
function lookup<V, R>(loader: LookupLoader<V>, key: string, shape: (value: V) => R): R | Promise<R> {
  const known = loader.peek(key);
  return known !== undefined ? shape(known) : loader.load(key).then(shape);
}

/**
 * Loads, in one round (one statement: graphql/asset-lookups.ts), the lookups that the fields
 * selected on a list of assets will make, so those fields resolve without waiting each. Fields
 * under @skip/@include count as selected (at worst a few rows more in the same statement).
 */
async function loadAhead(assets: readonly ListedAsset[], selected: ReadonlySet<string>, loaders: Loaders): Promise<void> {
  const ids = assets.map((a) => a.id);
  const loads: Promise<unknown>[] = [];
  if (selected.has('dependencies')) loads.push(loaders.referencesFrom.loadAhead(ids));
  if (selected.has('dependents')) loads.push(loaders.referencesTo.loadAhead(ids));
  if (selected.has('teamAsset')) loads.push(loaders.teamByName.loadAhead(assets.flatMap((a) => (a.team ? [a.team] : []))));
  if (selected.has('versions')) loads.push(loaders.versionsOfSet.loadAhead(assets.flatMap((a) => (a.type === 'API' && a.versionSetId ? [a.versionSetId] : []))));
  await Promise.all(loads);
}

@Resolver(() => TeamAsset)
export class TeamAssetResolver {
  @FieldResolver(() => [AssetInterface], { description: 'The GROUP assets of the team.' })
  async groups(@Root() team: View, @Ctx() { loaders }: Context): Promise<View[]> {
    return views((await loaders.referencesFrom.load(team.id)).filter((r) => r.asset.type === 'GROUP').map((r) => r.asset));
  }
}
