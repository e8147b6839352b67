/** Relay-style connections, one generic shape for every paginated list, and its ordering input. */
import { ArgsType, Field, InputType, Int, ObjectType, registerEnumType, type ClassType } from 'type-graphql';
import type { Page, PageRequest } from '../services/paging.js';

@ObjectType({ description: 'Where a page sits in its listing (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'More rows follow endCursor (page on with first/after).' }) hasNextPage!: boolean;
  @Field({ description: 'More rows precede startCursor (page back with last/before).' }) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true, description: 'The first edge’s cursor; null for an empty page.' }) startCursor!: string | null;
  @Field(() => String, { nullable: true, description: 'The last edge’s cursor; null for an empty page.' }) endCursor!: string | null;
}

export interface Connection<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** `node` is a thunk so the node type may be declared after (or import) this module. */
export function ConnectionType<T extends object>(name: string, node: () => ClassType<T> | Function) {
  @ObjectType(`${name}Edge`, { description: `One ${name} of a page, with its cursor.` })
  class Edge {
    @Field({ description: 'Opaque; valid for after/before in the same listing and order.' }) cursor!: string;
    @Field(node, { description: `The ${name}.` }) node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay connection).` })
  class ConnectionClass implements Connection<T> {
    @Field(() => Int, { description: 'How many items match, over all pages.' }) totalCount!: number;
    @Field(() => [Edge], { description: 'The items of this page, in order.' }) edges!: Edge[];
    @Field(() => PageInfo, { description: 'Where this page ends.' }) pageInfo!: PageInfo;
  }
  return ConnectionClass;
}

/** A service's page as a connection; `view` shapes each node. */
export function toConnection<R, T = R>(page: Page<R>, view: (node: R) => T = (node) => node as unknown as T): Connection<T> {
  const edges = page.nodes.map((node, i) => ({ cursor: page.cursors[i]!, node: view(node) }));
  return {
    totalCount: page.totalCount,
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'ASC: A→Z, oldest first. DESC: Z→A, newest first.',
  valuesConfig: { ASC: { description: 'A→Z, oldest first.' }, DESC: { description: 'Z→A, newest first.' } },
});

/** What a listing is sorted by: one of its order fields, in a direction. */
export interface Order<F extends string> {
  field: F;
  direction: OrderDirection;
}

/**
 * A listing's sort order in the schema: its `<Listing>OrderField` enum (registered here, each
 * value with its description) and the `<Listing>Order` input type of `orderBy` (default NAME, ASC).
 * `what` names the listed things ("assets").
 */
export function OrderInput<F extends string>(listing: string, what: string, fields: Record<F, F>, descriptions: Record<F, string>) {
  registerEnumType(fields, {
    name: `${listing}OrderField`,
    description: `What ${what} can be sorted by.`,
    valuesConfig: Object.fromEntries(Object.entries<string>(descriptions).map(([value, description]) => [value, { description }])) as Record<F, { description: string }>,
  });
  @InputType(`${listing}Order`, { description: `How ${what} are sorted (default: NAME, ASC).` })
  class OrderClass implements Order<F> {
    @Field(() => fields, { description: 'What to sort by; ties are broken by id, so the order is stable.' }) field!: F;
    @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC, description: 'Ascending or descending.' }) direction!: OrderDirection;
  }
  return OrderClass;
}

/** The paging arguments of every connection field (Relay): forward or backward, one at a time. */
@ArgsType()
export class PageArgs implements PageRequest {
  @Field(() => Int, { nullable: true, description: 'Rows from the start (or after `after`); 20 when neither first nor last is given.' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'A cursor of this listing in the same order: rows after it.' })
  after?: string | null;
  @Field(() => Int, { nullable: true, description: 'Rows from the end (or before `before`); not with first.' })
  last?: number | null;
  @Field(() => String, { nullable: true, description: 'A cursor of this listing in the same order: rows before it.' })
  before?: string | null;
}
