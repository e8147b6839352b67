/**
 * Whether graphql-jit may compile an operation (see compiled-executor.ts), and at what cost: only
 * where its answer is the same as graphql-js's. Refused:
 *
 *  - mutations: graphql-js runs root fields in order and stops at the first one that fails a
 *    non-null field; jit runs them all, so a later mutation would write what the answer hides;
 *  - a variable inside an object or list literal given to a custom scalar (`spec: { kind: $k }`
 *    for a JSONObject): jit parses such literals once, at compile time, without the variables;
 *  - a variable as an input field that has a default (`orderBy: { field: $f, direction: $d }`):
 *    when the variable is not sent, jit passes null instead of the default (ASC);
 *  - introspection (`__schema`, `__type`): jit compiles the whole nested tree, which the field
 *    count below does not see (and introspection is not what a portal repeats);
 *  - @skip and @include anywhere: jit marks the skipped fragment's shared field nodes, so the
 *    same fragment spread elsewhere (even in another operation of the document) loses its
 *    fields, and `info.fieldNodes` still holds skipped copies (a remote-stage field forwarded
 *    its skipped copy and answered null);
 *  - operations whose code would be large. jit inlines every fragment at every place it is spread
 *    and expands each selection on an interface once per implementing type, whatever @skip and
 *    @include say (they are decided per request), so a 600-character document with nested
 *    fragments over `Asset` expands to millions of fields and compiles for many seconds.
 *    `expandedFields` counts what jit would generate, cut short past the limit; the executor
 *    compiles only small operations, within a budget of fields per minute.
 */
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isInputObjectType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  BREAK,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type ListValueNode,
  type ObjectValueNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * What compiling the operation would cost, in fields of generated code (compiling takes ~0.1 ms
 * per field on these machines), counted up to just past `limit`; null when it must not be
 * compiled at all.
 */
export function compileCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, limit: number): number | null {
  const operation = operationOf(document, operationName);
  if (!operation || operation.operation !== 'query') return null;
  if (hasSkipOrInclude(document) || variableJitMisreads(schema, document)) return null;
  return expandedFields(schema, document, operation, limit);
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

function hasSkipOrInclude(document: DocumentNode): boolean {
  let found = false;
  visit(document, { Directive: (node) => (node.name.value === 'skip' || node.name.value === 'include' ? ((found = true), BREAK) : undefined) });
  return found;
}

/** A variable where jit would not read it as graphql-js does (see the list above). */
function variableJitMisreads(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  const check = (node: ObjectValueNode | ListValueNode) => {
    const type = getNamedType(typeInfo.getInputType());
    if (type && isScalarType(type) && !isSpecifiedScalarType(type)) {
      visit(node, { Variable: () => ((found = true), BREAK) });
      return found ? BREAK : false; // false: this literal was checked whole, skip its inside
    }
    if (type && isInputObjectType(type) && node.kind === Kind.OBJECT) {
      const fields = type.getFields();
      found = node.fields.some((f) => f.value.kind === Kind.VARIABLE && fields[f.name.value]?.defaultValue !== undefined);
      if (found) return BREAK;
    }
    return undefined;
  };
  visit(document, visitWithTypeInfo(typeInfo, { ObjectValue: check, ListValue: check }));
  return found;
}

/**
 * The fields of `operation` with every fragment inlined and every selection on an abstract type
 * counted once per possible type, @skip/@include ignored; counting stops soon after `limit`.
 * Memoised per (selection set, concrete type), so the count itself stays cheap when the
 * expansion it measures is exponential.
 */
function expandedFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, limit: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<SelectionSetNode, Map<string, number>>();

  const applies = (condition: string | undefined, type: GraphQLObjectType): boolean => {
    if (!condition || condition === type.name) return true;
    const conditionType = schema.getType(condition);
    return !!conditionType && isAbstractType(conditionType) && schema.isSubType(conditionType, type);
  };

  const count = (set: SelectionSetNode, type: GraphQLCompositeType): number => {
    if (!isObjectType(type)) {
      let n = 0;
      for (const possible of schema.getPossibleTypes(type)) if ((n += count(set, possible)) > limit) break;
      return n;
    }
    let known = memo.get(set);
    if (!known) memo.set(set, (known = new Map()));
    const seen = known.get(type.name);
    if (seen !== undefined) return seen;
    let n = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        n += 1;
        if (selection.name.value === '__typename') continue;
        // Introspection (__schema, __type) and anything unknown: not counted, so not compiled.
        const field = type.getFields()[selection.name.value];
        if (!field) return Infinity;
        const named = getNamedType(field.type);
        if (selection.selectionSet && isCompositeType(named)) n += count(selection.selectionSet, named);
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (fragment && applies(fragment.typeCondition?.name.value, type)) n += count(fragment.selectionSet, type);
      }
      if (n > limit) break;
    }
    known.set(type.name, n);
    return n;
  };

  const root = schema.getRootType(operation.operation);
  return root ? count(operation.selectionSet, root) : Infinity;
}
