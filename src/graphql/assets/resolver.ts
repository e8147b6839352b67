import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../errors.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import type { AuthUser } from '../../services/auth.js';
import { encodeCursor } from '../../services/paging.js';
import { toConnection, type Connection } from '../connection.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';
import {
  Alias,
  ApiAsset,
  AssetConnection,
  AssetDependencies,
  AssetFilterInput,
  AssetInterface,
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
  @Query(() => AssetConnection, { description: 'Assets in a stable order (name, then id), filtered and paged.' })
  async assets(
    @Arg('filter', () => AssetFilterInput, { nullable: true, description: 'Which assets.' }) filter: AssetFilterInput | null,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size (at most the page limit, 500 by default).' }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor: the page after this edge.' }) after: string | null,
    @Ctx() { services, loaders }: Context,
  ): Promise<Connection<View>> {
    const page = await services.assets.search(filter ?? {}, first, after);
    for (const node of page.nodes) loaders.assetById.prime(node.id, node);
    return toConnection(views(page.nodes), page.totalCount, page.hasNextPage, encodeCursor);
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

  @FieldResolver(() => AssetDependencies, { description: 'What the asset references: required ones always travel with it, optional ones when selected.' })
  async dependencies(@Root() asset: View, @Ctx() { loaders }: Context): Promise<AssetDependencies> {
    const refs = await loaders.referencesFrom.load(asset.id);
    return {
      required: views(refs.filter((r) => r.kind === 'REQUIRED').map((r) => r.asset)),
      optional: views(refs.filter((r) => r.kind === 'OPTIONAL').map((r) => r.asset)),
    };
  }

  @FieldResolver(() => [AssetInterface], { description: 'Assets that reference this one.' })
  async dependents(@Root() asset: View, @Ctx() { loaders }: Context): Promise<View[]> {
    return views((await loaders.referencesTo.load(asset.id)).map((r) => r.asset));
  }

  @FieldResolver(() => TeamAsset, { nullable: true, description: 'The TEAM asset named by `team`.' })
  async teamAsset(@Root() asset: View, @Ctx() { loaders }: Context): Promise<View | null> {
    if (!asset.team) return null;
    const team = await loaders.teamByName.load(asset.team);
    return team && assetView(team);
  }
}

@Resolver(() => ApiAsset)
export class ApiAssetResolver {
  @FieldResolver(() => [ApiAsset], { description: 'Every version of this API, by system version.' })
  async versions(@Root() api: View, @Ctx() { loaders }: Context): Promise<View[]> {
    return api.versionSetId ? views(await loaders.versionsOfSet.load(api.versionSetId)) : [assetView(api)];
  }
}

@Resolver(() => TeamAsset)
export class TeamAssetResolver {
  @FieldResolver(() => [AssetInterface], { description: 'The GROUP assets of the team.' })
  async groups(@Root() team: View, @Ctx() { loaders }: Context): Promise<View[]> {
    return views((await loaders.referencesFrom.load(team.id)).filter((r) => r.asset.type === 'GROUP').map((r) => r.asset));
  }
}
