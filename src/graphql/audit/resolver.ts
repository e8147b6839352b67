import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { StoredEvent } from '../../events/event-log.js';
import type { Context } from '../context.js';
import { Requires } from '../guard.js';

export const AUDIT_STREAM = 'audit';

@ObjectType({ description: 'Something an administrator may want to know happened: users, tokens …' })
export class AuditEvent {
  @Field(() => ID, { description: 'Position in the audit log; replay after it with afterSequence.' }) sequence!: number;
  @Field({ description: 'What kind of event, e.g. USER_CREATED or API_TOKEN_REVOKED.' }) type!: string;
  @Field(() => String, { nullable: true, description: 'Who did it; null for the system.' }) actor!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'What happened, by event type (never secrets).' }) details!: Record<string, unknown>;
  @Field({ description: 'When it happened.' }) at!: Date;
}

const toAuditEvent = (e: StoredEvent): AuditEvent => ({
  sequence: e.sequence,
  type: e.type,
  actor: typeof e.payload.actor === 'string' ? e.payload.actor : null,
  details: e.payload,
  at: e.createdAt,
});

@Resolver()
export class AuditResolver {
  @Requires('MANAGE_USERS')
  @Query(() => [AuditEvent], { description: 'Stored audit events after a sequence number, oldest first.' })
  async auditEvents(
    @Arg('afterSequence', () => Int, { defaultValue: 0, description: 'Only events after this sequence number.' }) afterSequence: number,
    @Arg('first', () => Int, { defaultValue: 100, description: 'How many events.' }) first: number,
    @Ctx() { services }: Context,
  ): Promise<AuditEvent[]> {
    const events = await services.events.readAfter(AUDIT_STREAM, afterSequence, Math.min(Math.max(first, 1), 500));
    return events.map(toAuditEvent);
  }

  @Requires('MANAGE_USERS')
  @Subscription(() => AuditEvent, {
    description: 'Audit events as they happen; with afterSequence, the stored ones after it first.',
    subscribe: async ({ args, context }) => {
      const { events } = (context as Context).services;
      const after = (args.afterSequence as number | null) ?? (await events.latestSequence(AUDIT_STREAM));
      return events.follow(AUDIT_STREAM, after);
    },
  })
  auditLog(
    @Root() event: StoredEvent,
    @Arg('afterSequence', () => Int, { nullable: true, description: 'Replay stored events after this one (0 = all); omitted = only new ones.' })
    _afterSequence: number | null,
  ): AuditEvent {
    return toAuditEvent(event);
  }
}
