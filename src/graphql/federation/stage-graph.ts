/**
 * The fields that make `stage(name)` a window into any stage: this instance answers its own,
 * other stages answer theirs through their GraphQL endpoint (batched per request and stage).
 * A stage that cannot be reached fails its own fields only (STAGE_UNREACHABLE).
 */
import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, Field, FieldResolver, ID, Info, Int, ObjectType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { DriftState } from '../../services/drift.js';
import { Requires } from '../guard.js';
import { AssetResolver } from '../assets/resolver.js';
import { AssetConnection, AssetFilterInput, AssetInterface, AssetOrder, type AssetOrderField } from '../assets/types.js';
import type { Context } from '../context.js';
import { GatewayGroup, GatewayGroupResolver } from '../gateways/resolver.js';
import { PromotionConnection, PromotionFilter, PromotionOrder, PromotionResolver, type PromotionOrderField } from '../promotions/resolver.js';
import { RollbackConnection, RollbackFilter, RollbackOrder, RollbackResolver, type RollbackOrderField } from '../rollbacks/resolver.js';
import { PageArgs, type Order } from '../connection.js';
import { Stage } from '../stages/resolver.js';
import { remoteAssetReader, resolveRemotely } from './remote-fields.js';

const assets = new AssetResolver();
const promotions = new PromotionResolver();
const rollbacks = new RollbackResolver();
const gateways = new GatewayGroupResolver();

@Resolver(() => Stage)
export class StageGraphResolver {
  @FieldResolver(() => AssetConnection, { nullable: true, description: 'That stage’s assets (same arguments as Query.assets).' })
  assets(
    @Root() stage: Stage,
    @Arg('filter', () => AssetFilterInput, { nullable: true, description: 'Which assets.' }) filter: AssetFilterInput | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => AssetOrder, { nullable: true, description: 'How they are sorted.' }) orderBy: Order<AssetOrderField> | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return stage.isLocal ? assets.assets(filter, page, orderBy, ctx, info) : resolveRemotely(ctx, stage.name, info);
  }

  @FieldResolver(() => AssetInterface, { nullable: true, description: 'One asset of that stage.' })
  asset(@Root() stage: Stage, @Arg('id', () => ID, { description: 'The asset’s UUID.' }) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return stage.isLocal ? assets.asset(id, ctx) : resolveRemotely(ctx, stage.name, info);
  }

  @FieldResolver(() => PromotionConnection, { nullable: true, description: 'Promotions made from that stage.' })
  promotions(
    @Root() stage: Stage,
    @Arg('filter', () => PromotionFilter, { nullable: true, description: 'Which promotions.' }) filter: PromotionFilter | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => PromotionOrder, { nullable: true, description: 'How they are sorted.' }) orderBy: Order<PromotionOrderField> | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return stage.isLocal ? promotions.promotions(filter, page, orderBy, ctx) : resolveRemotely(ctx, stage.name, info);
  }

  @FieldResolver(() => [GatewayGroup], { nullable: true, description: 'That stage’s gateway groups.' })
  gatewayGroups(@Root() stage: Stage, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return stage.isLocal ? gateways.gatewayGroups(ctx) : resolveRemotely(ctx, stage.name, info);
  }

  @FieldResolver(() => RollbackConnection, { nullable: true, description: 'Rollbacks recorded on that stage.' })
  rollbacks(
    @Root() stage: Stage,
    @Arg('filter', () => RollbackFilter, { nullable: true, description: 'Which rollbacks.' }) filter: RollbackFilter | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => RollbackOrder, { nullable: true, description: 'How they are sorted.' }) orderBy: Order<RollbackOrderField> | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return stage.isLocal ? rollbacks.rollbacks(filter, page, orderBy, ctx) : resolveRemotely(ctx, stage.name, info);
  }
}

export enum DriftStateEnum {
  MISSING = 'MISSING',
  IN_SYNC = 'IN_SYNC',
  DRIFTED = 'DRIFTED',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(DriftStateEnum, {
  name: 'DriftState',
  description: 'Compared with this stage’s copy; UNKNOWN when the stage could not be asked.',
  valuesConfig: {
    DRIFTED: { description: 'On both stages, with different content.' },
    IN_SYNC: { description: 'On both stages, with the same content.' },
    MISSING: { description: 'Not on that stage.' },
    UNKNOWN: { description: 'That stage could not be asked.' },
  },
});

@ObjectType({ description: 'The latest promotion that carried an asset.' })
class LastPromotion {
  @Field(() => ID, { description: 'The promotion’s id.' }) id!: string;
  @Field({ description: 'The promotion’s name.' }) name!: string;
  @Field({ description: 'When it ran.' }) at!: Date;
}

@ObjectType({ description: 'One asset on one stage, compared with this stage’s copy.' })
class MatrixCell {
  @Field({ description: 'The stage.' }) stageName!: string;
  @Field(() => DriftStateEnum, { description: 'In sync, drifted, missing or unknown.' }) state!: DriftState;
  @Field(() => String, { nullable: true, description: 'The version on that stage (APIs).' }) version!: string | null;
  @Field(() => String, { nullable: true, description: 'The checksum on that stage; null when missing or unknown.' }) checksum!: string | null;
  @Field(() => LastPromotion, { nullable: true, description: 'The last promotion from this stage that sent the asset there.' })
  lastPromotion!: LastPromotion | null;
  @Field(() => String, { nullable: true, description: 'Why the stage could not be asked (state UNKNOWN).' }) error!: string | null;
}

@ObjectType({ description: 'One asset across the stages asked.' })
class MatrixRow {
  @Field(() => ID, { description: 'The asset’s UUID.' }) assetId!: string;
  @Field({ description: 'The asset type.' }) type!: string;
  @Field({ description: 'The asset’s name on this stage.' }) name!: string;
  @Field(() => [MatrixCell], { description: 'One cell per stage asked.' }) cells!: MatrixCell[];
}

@Resolver()
export class DriftResolver {
  @Requires()
  @Query(() => [MatrixRow], {
    description:
      'For each asset (by id or filter, at most 500) and stage (at most 10): MISSING, IN_SYNC or DRIFTED against this stage. Remote stages need MANAGE_PROMOTIONS.',
  })
  assetMatrix(
    @Arg('assetIds', () => [ID], { nullable: true, description: 'The assets to compare (or use filter).' }) assetIds: string[] | null,
    @Arg('filter', () => AssetFilterInput, { nullable: true, description: 'The assets to compare (or use assetIds).' }) filter: AssetFilterInput | null,
    @Arg('stages', () => [String], { description: 'The stages to compare with.' }) stages: string[],
    @Ctx() ctx: Context,
  ): Promise<MatrixRow[]> {
    return ctx.services.drift.matrix(ctx.user, assetIds, filter, stages, remoteAssetReader(ctx));
  }
}
