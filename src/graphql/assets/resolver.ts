import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../errors.js';
import type { ListedAsset } from '../../services/asset-rows.js';
import type { AuthUser } from '../../services/auth.js';
import { PageArgs, toConnection, type Connection, type Order } from '../connection.js';
import type { Context } from '../context.js';
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
  @Query(() => AssetInterface, { nullable: true })
  async asset(@Arg('id', () => ID) id: string, @Ctx() { loaders }: Context): Promise<View | null> {
    const row = await loaders.assetById.load(id);
    return row && assetView(row);
  }

  @Requires()
  @Query(() => [AssetInterface], { description: 'The assets with these ids that exist here (used between stages).' })
  async assetsByIds(@Arg('ids', () => [ID]) ids: string[], @Ctx() { loaders }: Context): Promise<View[]> {
    if (ids.length > 1000) throw badInput('at most 1000 ids at a time', { field: 'ids' });
    const rows = await loaders.assetById.loadMany(ids);
    return rows.filter((r): r is ListedAsset => r !== null && !(r instanceof Error)).map(assetView);
  }

  @Requires()
  @Query(() => AssetConnection, { description: 'Assets in a stable order (by orderBy, then id), filtered and paged.' })
  async assets(
    @Arg('filter', () => AssetFilterInput, { nullable: true }) filter: AssetFilterInput | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => AssetOrder, { nullable: true }) orderBy: Order<AssetOrderField> | null,
    @Ctx() { services, loaders }: Context,
  ): Promise<Connection<View>> {
    const found = await services.assets.search(filter ?? {}, page, orderBy ?? undefined);
    for (const node of found.nodes) loaders.assetById.prime(node.id, node);
    return toConnection(found, assetView);
  }

  @Requires()
  @Query(() => [AssetInterface], {
    description: 'Everything that travels with these assets, in a valid apply order (dependencies first).',
  })
  async dependencyClosure(
    @Arg('assetIds', () => [ID]) assetIds: string[],
    @Arg('optional', () => OptionalDependencies, { defaultValue: OptionalDependencies.NONE }) optional: OptionalDependencies,
    @Arg('optionalIds', () => [ID], { nullable: true }) optionalIds: string[] | null,
    @Ctx() { services }: Context,
  ): Promise<View[]> {
    return views(await services.assets.closure(assetIds, optional, optionalIds ?? []));
  }

  @Requires()
  @Query(() => Alias, { description: 'The variant of an alias a promotion to this stage uses: bound to it, else unbound.' })
  async aliasFor(@Arg('name') name: string, @Arg('stage') stage: string, @Ctx() { services }: Context): Promise<View> {
    return assetView(await services.assets.aliasFor(name, stage));
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => AssetInterface)
  async createAsset(@Arg('input') input: CreateAssetInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<View> {
    return assetView(await services.assets.create(user, input));
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => AssetInterface)
  async updateAsset(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateAssetInput,
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
  deleteAsset(@Arg('id', () => ID) id: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.assets.delete(id);
  }

  @Requires('MANAGE_ASSETS')
  @Mutation(() => ApiAsset, { description: 'A new version of an API, in the same version set, with the same content.' })
  async createApiVersion(
    @Arg('fromId', () => ID) fromId: string,
    @Arg('version') version: string,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<View> {
    return assetView(await services.assets.createApiVersion(user, fromId, version));
  }

  @FieldResolver(() => AssetDependencies)
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
