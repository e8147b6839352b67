import { Directive } from 'type-graphql';

/**
 * Marks an object type (or the Asset interface) as a Federation entity keyed by `id`: another
 * subgraph of a supergraph may extend it, and the gateway fetches it through `_entities`
 * (src/graphql/subgraph/entities.ts says how each one is looked up). Printed only in the
 * subgraph SDL (`_service { sdl }`), not in schema/schema.graphql.
 */
export const KeyedById = () => Directive('@key(fields: "id")');
