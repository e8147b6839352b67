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
registerEnumType(RollbackStatusEnum, { name: 'RollbackStatus' });

@ObjectType()
export class RollbackReportEntry {
  @Field() type!: string;
  @Field() name!: string;
  @Field({ description: 'CREATED / REPLACED before a rollback; REMOVED / RESTORED after.' }) status!: string;
}

@ObjectType({ implements: NodeInterface, description: 'Recorded on this (target) stage by an import a promotion made: what it takes to undo it.' })
export class Rollback {
  @Field(() => ID) id!: string;
  @Field({ description: 'The promotion’s name.' }) name!: string;
  @Field() description!: string;
  @Field(() => ID) promotionId!: string;
  @Field() sourceStage!: string;
  @Field() promotedBy!: string;
  @Field() promotionTime!: Date;
  @Field(() => Date, { nullable: true }) rollbackTime!: Date | null;
  @Field(() => RollbackStatusEnum) status!: RollbackStatus;
  @Field(() => [RollbackReportEntry]) report!: RollbackReportEntry[];
}

export const RollbackConnection = ConnectionType('Rollback', () => Rollback);

export enum RollbackOrderField {
  NAME = 'NAME',
  PROMOTION_TIME = 'PROMOTION_TIME',
}
registerEnumType(RollbackOrderField, {
  name: 'RollbackOrderField',
  valuesConfig: { NAME: { description: 'The promotion’s name, case-insensitive.' }, PROMOTION_TIME: { description: 'When the import was made; DESC = newest first.' } },
});
export const RollbackOrder = OrderInput<RollbackOrderField>('RollbackOrder', RollbackOrderField, 'How rollbacks are sorted (default: NAME, ASC).');

@InputType()
export class RollbackFilter {
  @Field(() => RollbackStatusEnum, { nullable: true }) status?: RollbackStatus | null;
  @Field(() => ID, { nullable: true }) promotionId?: string | null;
  @Field(() => String, { nullable: true }) text?: string | null;
  @Field(() => Date, { nullable: true, description: 'Promotion time at or after this.' }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Promotion time before this.' }) to?: Date | null;
}

@ObjectType()
export class RollbackProgressEvent {
  @Field(() => Int) sequence!: number;
  @Field(() => ID) rollbackId!: string;
  @Field({ description: 'STARTED, ASSET, SUCCEEDED or FAILED' }) phase!: string;
  @Field() message!: string;
  @Field(() => Int, { nullable: true }) completed!: number | null;
  @Field(() => Int, { nullable: true }) total!: number | null;
  @Field() at!: Date;
}


@Resolver()
export class RollbackResolver {
  @Requires()
  @Query(() => RollbackConnection, { description: 'Rollbacks recorded on this stage: alphabetical by name (case-insensitive) unless orderBy says otherwise.' })
  async rollbacks(
    @Arg('filter', () => RollbackFilter, { nullable: true }) filter: RollbackFilter | null,
    @Args() page: PageArgs,
    @Arg('orderBy', () => RollbackOrder, { nullable: true }) orderBy: Order<RollbackOrderField> | null,
    @Ctx() { services }: Context,
  ): Promise<Connection<RollbackEntity>> {
    return toConnection(await services.rollbacks.list(filter ?? {}, page, orderBy ?? undefined));
  }

  @Requires()
  @Query(() => Rollback, { name: 'rollback' })
  rollbackById(@Arg('id', () => ID) id: string, @Ctx() { services }: Context): Promise<RollbackEntity> {
    return services.rollbacks.get(id);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Rollback, {
    name: 'rollback',
    description: 'Restores the state before the promotion’s import, in one transaction. CONFLICT if later promotions built on it, unless forced.',
  })
  rollback(
    @Arg('id', () => ID) id: string,
    @Arg('force', () => Boolean, { defaultValue: false }) force: boolean,
    @Ctx() { services }: Context,
  ): Promise<RollbackEntity> {
    return services.rollbacks.rollback(id, force);
  }

  @Requires('MANAGE_PROMOTIONS')
  @Mutation(() => Boolean)
  deleteRollback(@Arg('id', () => ID) id: string, @Ctx() { services }: Context): Promise<boolean> {
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
    @Arg('rollbackId', () => ID) _rollbackId: string,
    @Arg('afterSequence', () => Int, { nullable: true, defaultValue: 0 }) _afterSequence: number | null,
  ): RollbackProgressEvent {
    const p = event.payload as { rollbackId: string; phase: string; message: string; completed: number | null; total: number | null };
    return { sequence: event.sequence, rollbackId: p.rollbackId, phase: p.phase, message: p.message, completed: p.completed, total: p.total, at: event.createdAt };
  }
}
