/** Relay-style connections, one generic shape for every paginated list. */
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

@ObjectType({ description: 'Where a page of a connection ends, and whether more follow.' })
export class PageInfo {
  @Field({ description: 'Whether items follow this page (ask again with after: endCursor).' }) hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'The cursor of the page’s last edge; null for an empty page.' }) endCursor!: string | null;
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
    @Field({ description: 'Opaque position of this edge: pass it as after to read on.' }) cursor!: string;
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

export function toConnection<T>(nodes: readonly T[], totalCount: number, hasNextPage: boolean, cursorOf: (node: T) => string): Connection<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { totalCount, edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
