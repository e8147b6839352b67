import { NodeInterface } from '../node.js';
import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root, Subscription } from 'type-graphql';
import type { OptionalChoice } from '../../domain/dependencies.js';
import type { AssetAction } from '../../domain/promotion-decision.js';
import type { PromotionEntity, PromotionStageEntity, RunStatus } from '../../entities/promotion.js';
import type { StoredEvent } from '../../events/event-log.js';
import type { AuthUser } from '../../services/auth.js';
import type { ProgressPayload } from '../../services/promotions.js';
import { OptionalDependencies } from '../assets/types.js';
import { badInput, notFound } from '../../errors.js';
import { Rollback } from '../rollbacks/resolver.js';
import { markRemote } from '../federation/remote-fields.js';
import { ConnectionType, OrderInput, PageArgs, toConnection, type Connection, type Order } from '../connection.js';
import type { Context } from '../context.js';
import { CurrentUser, Requires } from '../guard.js';
import { KeyedById } from '../subgraph/key.js';

export enum PromotionStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
}
registerEnumType(PromotionStatus, {
  name: 'PromotionStatus',
  description: 'Where a promotion (or one of its stages) stands.',
  valuesConfig: {
    FAILURE: { description: 'Finished; something failed.' },
    QUEUED: { description: 'Waiting for a replica to run it.' },
    RUNNING: { description: 'Being run.' },
    SUCCESS: { description: 'Finished; everything was written.' },
  },
});

export enum PlanAction {
  CREATE = 'CREATE',
  UPDATE = 'UPDATE',
  UNCHANGED = 'UNCHANGED',
  REFUSED = 'REFUSED',
}
registerEnumType(PlanAction, {
  name: 'PlanAction',
  description: 'The one decision per asset (plan and run alike): CREATE → CREATED, UPDATE → REPLACED, UNCHANGED → UNCHANGED, REFUSED → FAILURE.',
  valuesConfig: {
    CREATE: { description: 'The asset is new on the stage.' },
    REFUSED: { description: 'The asset cannot be written (see the reason).' },
    UNCHANGED: { description: 'The stage already has the same content: nothing is written.' },
    UPDATE: { description: 'The asset exists with other content and is overwritten.' },
  },
});

@ObjectType({ description: 'One asset as the target stage reported it.' })
export class AssetReport {
  @Field(() => ID, { description: 'The asset’s UUID.' }) assetId!: string;
  @Field({ description: 'The asset type.' }) type!: string;
  @Field({ description: 'The asset’s name.' }) name!: string;
  @Field({ description: 'CREATED, REPLACED, UNCHANGED, WARNING or FAILURE (as the target reported it).' }) status!: string;
  @Field({ description: 'Why, when the status needs explaining.' }) comment!: string;
}

@ObjectType({ description: 'How one target stage fared.' })
export class StageResult {
  @Field({ description: 'The target stage.' }) stageName!: string;
  @Field(() => PromotionStatus, { description: 'The stage’s status.' }) status!: RunStatus;
  @Field(() => String, { nullable: true, description: 'Why it failed (or a summary).' }) reason!: string | null;
  @Field(() => String, { nullable: true, description: 'STAGE_UNREACHABLE, UNAUTHENTICATED, VERSION_DOWNGRADE, IMPORT_FAILED …' }) code!: string | null;
  @Field(() => [AssetReport], { description: 'Per asset: what the stage reported.' }) report!: AssetReport[];
  @Field(() => ID, { nullable: true, description: 'The import report on the target stage.' }) importReportId!: string | null;
  @Field(() => Date, { nullable: true, description: 'When the stage started; null while queued.' }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the stage finished; null while running.' }) finishedAt!: Date | null;
}

@KeyedById()
@ObjectType({ implements: NodeInterface, description: 'Assets sent from this stage to target stages, with each stage’s outcome.' })
export class Promotion {
  @Field(() => ID, { description: 'The promotion’s UUID.' }) id!: string;
  @Field({ description: 'The promotion’s name.' }) name!: string;
  @Field({ description: 'Free text.' }) description!: string;
  @Field(() => PromotionStatus, { description: 'Overall status over all target stages.' }) status!: RunStatus;
  @Field({ description: 'Who started it.' }) promotedBy!: string;
  @Field({ description: 'When it was started.' }) createdAt!: Date;
  @Field(() => [ID], { description: 'The assets selected (dependencies not included).' }) assetIds!: string[];
  @Field(() => OptionalDependencies, { description: 'Which optional dependencies travelled.' }) optional!: OptionalChoice;
  @Field(() => [ID], { description: 'The optional dependencies chosen (optional SELECTED).' }) optionalIds!: string[];
  @Field(() => [String], { description: 'The stages promoted to.' }) targetStages!: string[];
  @Field({ description: 'Whether existing assets on the targets were overwritten.' }) overwriteAssets!: boolean;
  @Field({ description: 'Whether differing aliases on the targets were overwritten.' }) overwriteAliases!: boolean;
  @Field({ description: 'Whether API versions were linked into one chain on the targets.' }) fixMissingVersions!: boolean;
  @Field(() => ID, { nullable: true, description: 'The promotion this one repeated.' }) repromotedFrom!: string | null;
}

export const PromotionConnection = ConnectionType('Promotion', () => Promotion);

export enum PromotionOrderField {
  NAME = 'NAME',
  CREATED_AT = 'CREATED_AT',
}
export const PromotionOrder = OrderInput('Promotion', 'promotions', PromotionOrderField, { NAME: 'Case-insensitive.', CREATED_AT: 'When it was promoted; DESC = newest first.' });

@InputType({ description: 'What to promote, where, and how.' })
export class PromoteInput {
  @Field({ description: 'The promotion’s name (mandatory).' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Free text.' }) description?: string | null;
  @Field(() => [ID], { description: 'The assets to promote (their required dependencies travel along).' }) assetIds!: string[];
  @Field(() => OptionalDependencies, { nullable: true, description: 'Which optional dependencies travel.' }) optional?: OptionalChoice | null;
  @Field(() => [ID], { nullable: true, description: 'The optional dependencies that travel when optional is SELECTED.' }) optionalIds?: string[] | null;
  @Field(() => [String], { description: 'The stages to promote to.' }) targetStages!: string[];
  @Field(() => Boolean, { nullable: true, description: 'Replace assets that exist on the target.' }) overwriteAssets?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'Replace aliases that exist on the target.' }) overwriteAliases?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'Link the promoted API versions into one chain on the target.' }) fixMissingVersions?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Same key and input → the same promotion; same key, other input → CONFLICT.' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Which promotions: all conditions must hold.' })
export class PromotionFilter {
  @Field(() => PromotionStatus, { nullable: true, description: 'Only promotions with this status.' }) status?: RunStatus | null;
  @Field(() => String, { nullable: true, description: 'Target stage name.' }) stage?: string | null;
  @Field(() => String, { nullable: true, description: 'Text in the name or description.' }) text?: string | null;
  @Field(() => Date, { nullable: true, description: 'Promoted at or after this time.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Promoted before this time.' }) to?: Date | null;
}

@ObjectType({ description: 'What a promotion would do with one asset on one stage.' })
export class PlanItem {
  @Field(() => ID, { description: 'The asset’s UUID.' }) assetId!: string;
  @Field({ description: 'The asset type.' }) type!: string;
  @Field({ description: 'The asset’s name.' }) name!: string;
  @Field(() => PlanAction, { description: 'Create, update, leave unchanged or refuse.' }) action!: AssetAction;
  @Field(() => String, { nullable: true, description: 'For REFUSED: why, word for word as the run will report it.' }) reason!: string | null;
  @Field({ description: 'The report status the run will give: CREATED, REPLACED, UNCHANGED, WARNING or FAILURE.' }) status!: string;
  @Field({ description: 'The comment the run’s report will carry.' }) comment!: string;
  @Field(() => String, { nullable: true, description: 'For aliases: the value that would be sent.' }) aliasValue!: string | null;
}

@ObjectType({ description: 'What a promotion would do on one stage.' })
export class StagePlan {
  @Field({ description: 'The target stage.' }) stageName!: string;
  @Field(() => String, { nullable: true, description: 'Why the stage refuses the promotion as a whole, as the run would say it (unreachable, credentials, LOCKED, VERSION_DOWNGRADE …).' })
  error!: string | null;
  @Field(() => String, { nullable: true, description: 'The code the run would record for the stage.' }) errorCode!: string | null;
  @Field(() => [PlanItem], { description: 'Per asset: the action.' }) items!: PlanItem[];
}

@ObjectType({ description: 'What a promotion would do, per stage; nothing is written.' })
export class PromotionPlan {
  @Field(() => [StagePlan], { description: 'One plan per target stage.' }) stages!: StagePlan[];
}

@ObjectType({ description: 'A step of a promotion, stored: reconnect with afterSequence to miss nothing.' })
export class ProgressEvent {
  @Field(() => Int, { description: 'Position in the promotion’s events; resume after it with afterSequence.' }) sequence!: number;
  @Field(() => ID, { description: 'The promotion.' }) promotionId!: string;
  @Field(() => String, { nullable: true, description: 'Null for the final COMPLETED event.' }) stageName!: string | null;
  @Field({ description: 'QUEUED, STARTED, EXPORTED, TRANSFERRED, ASSET, SUCCEEDED, FAILED, COMPLETED' }) phase!: string;
  @Field({ description: 'What happened, in words.' }) message!: string;
  @Field(() => Int, { nullable: true, description: 'Assets done so far.' }) completed!: number | null;
  @Field(() => Int, { nullable: true, description: 'Assets to do.' }) total!: number | null;
  @Field({ description: 'When it happened.' }) at!: Date;
}

export const toProgressEvent = (e: StoredEvent): ProgressEvent => {
  const p = e.payload as unknown as ProgressPayload;
  return { sequence: e.sequence, promotionId: p.promotionId, stageName: p.stageName, phase: p.phase, message: p.message, completed: p.completed, total: p.total, at: e.createdAt };
};

/** A rollback as the remote stage reported it (dates arrive as ISO strings). */
const fromRemote = (r: Record<string, unknown>) => ({
  ...r,
  promotionTime: new Date(String(r.promotionTime)),
  rollbackTime: r.rollbackTime ? new Date(String(r.rollbackTime)) : null,
});

@Resolver(() => StageResult)
export class StageResultResolver {
  @FieldResolver(() => Rollback, { nullable: true, description: 'The rollback the target stage recorded for this import (asked of that stage).' })
  async rollback(@Root() stage: PromotionStageEntity, @Ctx() { services, user }: Context): Promise<Record<string, unknown> | null> {
    if (stage.status === 'QUEUED') return null;
    const found = await (await services.stages.remoteFor(user, stage.stageName)).rollbackFor(stage.promotionId);
    // The target stage's rollback: its id names that stage.
    return found && markRemote(fromRemote(found), stage.stageName);
  }
}

@Resolver(() => Promotion)
export class PromotionResolver {
  @Requires()
  @Query(() => PromotionConnection, { description: 'Promotion history: alphabetical by name (case-insensitive) unless orderBy says otherwise, e.g. { field: CREATED_AT, direction: DESC } for newest first.' })
  async promotions(
    @Arg('filter', () => PromotionFilter, { nullable: true, description: 'Which promotions.' }) filter: PromotionFilter | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => PromotionOrder, { nullable: true, description: 'How they are sorted.' }) orderBy: Order<PromotionOrderField> | null,
    @Ctx() { services }: Context,
  ): Promise<Connection<PromotionEntity>> {
    return toConnection(await services.promotions.list(filter ?? {}, page, orderBy ?? undefined));
  }

  @Requires()
  @Query(() => Promotion, { description: 'One promotion by id.' })
  promotion(@Arg('id', () => ID, { description: 'The promotion’s UUID.' }) id: string, @Ctx() { services }: Context): Promise<PromotionEntity> {
    return services.promotions.get(id);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Query(() => PromotionPlan, { description: 'What a promotion would do on each stage; nothing is written.' })
  async promotionPlan(@Arg('input', { description: 'The promotion to plan.' }) input: PromoteInput, @Ctx() { services }: Context): Promise<PromotionPlan> {
    return { stages: await services.promotions.plan(input) };
  }

  @Requires()
  @Query(() => [ProgressEvent], { description: 'Stored progress of a promotion after a sequence number.' })
  async promotionEvents(
    @Arg('promotionId', () => ID, { description: 'The promotion.' }) promotionId: string,
    @Arg('afterSequence', () => Int, { defaultValue: 0, description: 'Only events after this sequence number.' }) afterSequence: number,
    @Ctx() { services }: Context,
  ): Promise<ProgressEvent[]> {
    return (await services.promotions.readProgress(promotionId, afterSequence)).map(toProgressEvent);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Promotion, { description: 'Queues a promotion and returns it at once; follow it with promotionProgress.' })
  promote(@Arg('input', { description: 'What to promote, where, and how.' }) input: PromoteInput, @CurrentUser() user: AuthUser, @Ctx() { services }: Context): Promise<PromotionEntity> {
    return services.promotions.promote(user, input);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Promotion, { description: 'Promotes the same assets again, with their current contents.' })
  repromote(
    @Arg('promotionId', () => ID, { description: 'The earlier promotion whose assets are promoted again.' }) promotionId: string,
    @Arg('targetStages', () => [String], { description: 'The stages to promote to.' }) targetStages: string[],
    @Arg('name', { description: 'Name of the new promotion.' }) name: string,
    @Arg('description', () => String, { nullable: true, description: 'Description of the new promotion.' }) description: string | null,
    @Arg('overwriteAssets', () => Boolean, { nullable: true, description: 'Overwrite assets that exist on the target.' }) overwriteAssets: boolean | null,
    @Arg('overwriteAliases', () => Boolean, { nullable: true, description: 'Overwrite aliases that differ on the target.' }) overwriteAliases: boolean | null,
    @Arg('fixMissingVersions', () => Boolean, { nullable: true, description: 'Link the promoted API versions into one chain on the target.' }) fixMissingVersions: boolean | null,
    @CurrentUser() user: AuthUser,
    @Ctx() { services }: Context,
  ): Promise<PromotionEntity> {
    return services.promotions.repromote(user, promotionId, { targetStages, name, description, overwriteAssets, overwriteAliases, fixMissingVersions });
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Rollback, { description: 'Asks the target stage, with its credentials, to roll back this promotion’s import.' })
  async rollbackPromotion(
    @Arg('promotionId', () => ID, { description: 'The promotion to undo.' }) promotionId: string,
    @Arg('stage', { description: 'The stage whose import is undone.' }) stage: string,
    @Arg('force', () => Boolean, { defaultValue: false, description: 'Roll back even if the assets changed since the promotion.' }) force: boolean,
    @Ctx() { services }: Context,
  ): Promise<Record<string, unknown>> {
    const promotion = await services.promotions.get(promotionId);
    if (!promotion.targetStages.includes(stage)) throw badInput(`promotion ${promotion.name} did not target stage ${stage}`, { field: 'stage' });
    const remote = await services.stages.remote(stage);
    const found = await remote.rollbackFor(promotionId);
    if (!found) throw notFound('rollback for promotion', `${promotion.name} on ${stage}`);
    return markRemote(fromRemote(await remote.rollback(String(found.id), force)), stage);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Boolean, { description: 'Deletes a finished promotion from the history.' })
  deletePromotion(@Arg('id', () => ID, { description: 'The promotion’s id.' }) id: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.promotions.delete(id);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Subscription(() => ProgressEvent, {
    description: 'Progress of a promotion (one stage or all): stored events after afterSequence, then live ones, until it finishes.',
    subscribe: ({ args, context }) =>
      (context as Context).services.promotions.followProgress(args.promotionId as string, (args.stage as string | null) ?? null, (args.afterSequence as number | null) ?? 0),
  })
  promotionProgress(
    @Root() event: StoredEvent,
    @Arg('promotionId', () => ID, { description: 'The promotion.' }) _promotionId: string,
    @Arg('stage', () => String, { nullable: true, description: 'Only this target stage; null = all.' }) _stage: string | null,
    @Arg('afterSequence', () => Int, { nullable: true, defaultValue: 0, description: 'Replay stored events after this one first.' }) _afterSequence: number | null,
  ): ProgressEvent {
    return toProgressEvent(event);
  }

  @FieldResolver(() => [StageResult], { description: 'Per target stage: status, reason and the per-asset report.' })
  async stages(@Root() promotion: PromotionEntity, @Ctx() { loaders }: Context): Promise<PromotionStageEntity[]> {
    return loaders.promotionStages.load(promotion.id);
  }
}

