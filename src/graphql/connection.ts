/** Relay-style connections, one generic shape for every paginated list. */
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

export interface Connection<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** `node` is a thunk so the node type may be declared after (or import) this module. */
export function ConnectionType<T extends object>(name: string, node: () => ClassType<T> | Function) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(node) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionClass implements Connection<T> {
    @Field(() => Int) totalCount!: number;
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
  }
  return ConnectionClass;
}

export function toConnection<T>(nodes: readonly T[], totalCount: number, hasNextPage: boolean, cursorOf: (node: T) => string): Connection<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { totalCount, edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
