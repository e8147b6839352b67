/**
 * The Relay `Node` interface: every object type with an identity implements it. Its `id` is the
 * global id of src/graphql/node-id.ts, filled in for every such type by `withGlobalIds`
 * (src/graphql/global-ids.ts), so the types themselves keep their raw key in `id`.
 */
import { Field, ID, InterfaceType } from 'type-graphql';

/** The concrete GraphQL type of a value `node(id)` found here (remote answers carry __typename). */
export const NODE_TYPE = Symbol('nodeType');

/** Tags a value with its GraphQL type, for `node(id)`, whose field type is the interface. */
export function asNode<T extends object>(value: T, typeName: string): T {
  Object.defineProperty(value, NODE_TYPE, { value: typeName, enumerable: false, configurable: true });
  return value;
}

/** The concrete type of a Node value: tagged here by asNode, or named by a remote answer. */
export const nodeTypeName = (value: { __typename?: string; [NODE_TYPE]?: string }): string | undefined => value.__typename ?? value[NODE_TYPE];

@InterfaceType('Node', {
  description: 'An object with a global id: opaque, unique across types and stages (it names the stage it was read from). Fetch it again with node(id).',
  resolveType: nodeTypeName,
})
export abstract class NodeInterface {
  @Field(() => ID, { description: 'Global id: opaque, names the type and the stage; accepted wherever an id of this stage is.' })
  id!: string;
}
