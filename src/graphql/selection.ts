/**
 * Which fields a query selects below the field being resolved, so a list resolver can fetch
 * ahead what its items' field resolvers will ask for (in one round, the same statement the
 * DataLoaders would have sent) and those resolvers then answer without a promise each.
 */
import { Kind, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields selected at `path` below the current field (e.g. ['edges', 'node']),
 * through inline fragments and fragment spreads, whatever their type condition or alias.
 */
export function selectedFieldNames(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  for (const name of path) sets = fieldsOf(sets, info.fragments).flatMap((f) => (f.name === name && f.selectionSet ? [f.selectionSet] : []));
  return new Set(fieldsOf(sets, info.fragments).map((f) => f.name));
}

/** The fields of these selection sets, fragments flattened (each fragment once: no cycles). */
function fieldsOf(sets: readonly SelectionSetNode[], fragments: Record<string, FragmentDefinitionNode>): { name: string; selectionSet?: SelectionSetNode }[] {
  const fields: { name: string; selectionSet?: SelectionSetNode }[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) fields.push({ name: selection.name.value, selectionSet: selection.selectionSet });
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  sets.forEach(visit);
  return fields;
}
