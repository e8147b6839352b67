import { NodeInterface } from '../node.js';
import { Arg, Args, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver, Root, Subscription } from 'type-graphql';
import type { RollbackEntity, RollbackStatus } from '../../entities/rollback.js';
import type { StoredEvent } from '../../events/event-log.js';
import { ConnectionType, OrderInput, PageArgs, toConnection, type Connection, type Order } from '../connection.js';
import type { Context } from '../context.js';
import { Requires } from '../guard.js';

export enum RollbackStatusEnum {
  AVAILABLE = 'AVAILABLE',
  ROLLED_BACK = 'ROLLED_BACK',
  FAILED = 'FAILED',
}
registerEnumType(RollbackStatusEnum, {
  name: 'RollbackStatus',
  description: 'Where a rollback stands.',
  valuesConfig: {
    AVAILABLE: { description: 'Can be rolled back.' },
    FAILED: { description: 'Was tried and failed; nothing changed.' },
    ROLLED_BACK: { description: 'Done: the stage is as before the promotion.' },
  },
});

@ObjectType({ description: 'One asset a rollback restores or removes.' })
export class RollbackReportEntry {
  @Field({ description: 'The asset type.' }) type!: string;
  @Field({ description: 'The asset’s name.' }) name!: string;
  @Field({ description: 'CREATED / REPLACED before a rollback; REMOVED / RESTORED after.' }) status!: string;
}

@ObjectType({ implements: NodeInterface, description: 'Recorded on this (target) stage by an import a promotion made: what it takes to undo it.' })
export class Rollback {
  @Field(() => ID, { description: 'The rollback’s UUID.' }) id!: string;
  @Field({ description: 'The promotion’s name.' }) name!: string;
  @Field({ description: 'The promotion’s description.' }) description!: string;
  @Field(() => ID, { description: 'The promotion whose import this undoes.' }) promotionId!: string;
  @Field({ description: 'The stage the promotion came from.' }) sourceStage!: string;
  @Field({ description: 'Who ran the promotion.' }) promotedBy!: string;
  @Field({ description: 'When the promotion’s import ran here.' }) promotionTime!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was rolled back; null = not yet.' }) rollbackTime!: Date | null;
  @Field(() => RollbackStatusEnum, { description: 'Available, rolled back or failed.' }) status!: RollbackStatus;
  @Field(() => [RollbackReportEntry], { description: 'The assets the rollback restores or removes.' }) report!: RollbackReportEntry[];
}

export const RollbackConnection = ConnectionType('Rollback', () => Rollback);

export enum RollbackOrderField {
  NAME = 'NAME',
  PROMOTION_TIME = 'PROMOTION_TIME',
}
export const RollbackOrder = OrderInput('Rollback', 'rollbacks', RollbackOrderField, { NAME: 'The promotion’s name, case-insensitive.', PROMOTION_TIME: 'When the import was made; DESC = newest first.' });

@InputType({ description: 'Which rollbacks: all conditions must hold.' })
export class RollbackFilter {
  @Field(() => RollbackStatusEnum, { nullable: true, description: 'Only rollbacks with this status.' }) status?: RollbackStatus | null;
  @Field(() => ID, { nullable: true, description: 'Only the rollback of this promotion.' }) promotionId?: string | null;
  @Field(() => String, { nullable: true, description: 'Text in the name or description.' }) text?: string | null;
  @Field(() => Date, { nullable: true, description: 'Promotion time at or after this.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Promotion time before this.' }) to?: Date | null;
}

@ObjectType({ description: 'A step of a running rollback.' })
export class RollbackProgressEvent {
  @Field(() => Int, { description: 'Position in the rollback’s events; resume after it with afterSequence.' }) sequence!: number;
  @Field(() => ID, { description: 'The rollback.' }) rollbackId!: string;
  @Field({ description: 'STARTED, ASSET, SUCCEEDED or FAILED' }) phase!: string;
  @Field({ description: 'What happened, in words.' }) message!: string;
  @Field(() => Int, { nullable: true, description: 'Assets done so far.' }) completed!: number | null;
  @Field(() => Int, { nullable: true, description: 'Assets to do.' }) total!: number | null;
  @Field({ description: 'When it happened.' }) at!: Date;
}


@Resolver()
export class RollbackResolver {
  @Requires()
  @Query(() => RollbackConnection, { description: 'Rollbacks recorded on this stage: alphabetical by name (case-insensitive) unless orderBy says otherwise.' })
  async rollbacks(
    @Arg('filter', () => RollbackFilter, { nullable: true, description: 'Which rollbacks.' }) filter: RollbackFilter | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => RollbackOrder, { nullable: true, description: 'How they are sorted.' }) orderBy: Order<RollbackOrderField> | null,
    @Ctx() { services }: Context,
  ): Promise<Connection<RollbackEntity>> {
    return toConnection(await services.rollbacks.list(filter ?? {}, page, orderBy ?? undefined));
  }

  @Requires()
  @Query(() => Rollback, { name: 'rollback', description: 'One rollback by id.' })
  rollbackById(@Arg('id', () => ID, { description: 'The rollback’s UUID.' }) id: string, @Ctx() { services }: Context): Promise<RollbackEntity> {
    return services.rollbacks.get(id);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Rollback, {
    name: 'rollback',
    description: 'Restores the state before the promotion’s import, in one transaction. CONFLICT if later promotions built on it, unless forced.',
  })
  rollback(
    @Arg('id', () => ID, { description: 'The rollback’s id.' }) id: string,
    @Arg('force', () => Boolean, { defaultValue: false, description: 'Roll back even if the assets changed since the promotion.' }) force: boolean,
    @Ctx() { services }: Context,
  ): Promise<RollbackEntity> {
    return services.rollbacks.rollback(id, force);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Boolean, { description: 'Deletes a rollback record (the promotion’s import can no longer be undone).' })
  deleteRollback(@Arg('id', () => ID, { description: 'The rollback’s id.' }) id: string, @Ctx() { services }: Context): Promise<boolean> {
    return services.rollbacks.delete(id);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Subscription(() => RollbackProgressEvent, {
    description: 'Progress of a rollback: stored events after afterSequence, then live ones, until it ends.',
    subscribe: async ({ args, context }) => {
      const { rollbacks } = (context as Context).services;
      await rollbacks.get(args.rollbackId as string);
      return rollbacks.followProgress(args.rollbackId as string, (args.afterSequence as number | null) ?? 0);
    },
  })
  rollbackProgress(
    @Root() event: StoredEvent,
    @Arg('rollbackId', () => ID, { description: 'The rollback.' }) _rollbackId: string,
    @Arg('afterSequence', () => Int, { nullable: true, defaultValue: 0, description: 'Replay stored events after this one first.' }) _afterSequence: number | null,
  ): RollbackProgressEvent {
    const p = event.payload as { rollbackId: string; phase: string; message: string; completed: number | null; total: number | null };
    return { sequence: event.sequence, rollbackId: p.rollbackId, phase: p.phase, message: p.message, completed: p.completed, total: p.total, at: event.createdAt };
  }
}
