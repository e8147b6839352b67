/**
 * type-graphql resolves every field through its own wrapper: a plain property through a
 * middleware runner, a @FieldResolver through a parameter builder that sorts and maps its
 * parameter list on each call. Where there is nothing for the wrapper to do — no middleware, no
 * @Authorized/@Requires roles, parameters that are only the root, the context or the info —
 * this installs the direct equivalent on the built schema: a property read, or a call of the
 * resolver method. A large answer (the portal page: thousands of fields) then costs a function
 * call per field instead of several allocations.
 *
 * Root fields are left alone (they carry the guards), and any field whose metadata does not
 * match exactly one plain shape keeps type-graphql's resolver.
 */
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { getMetadataStorage } from 'type-graphql';

type Metadata = ReturnType<typeof getMetadataStorage>;
type FieldResolverMetadata = Metadata['fieldResolvers'][number];
type FieldMetadata = NonNullable<Metadata['objectTypes'][number]['fields']>[number];
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Class = Function;

const hasNoGuard = (m: { roles?: unknown[]; middlewares?: unknown[] }) => !m.roles && !m.middlewares?.length;

/** `resolvers`: the resolver classes the schema was built with (type-graphql ignores others' field resolvers). */
export function directResolvers(schema: GraphQLSchema, resolvers: readonly Class[]): GraphQLSchema {
  const storage = getMetadataStorage();
  const classes = [...storage.objectTypes, ...storage.interfaceTypes];
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  const instances = new Map<Class, Record<string, (...args: unknown[]) => unknown>>();

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || roots.has(type) || type.name.startsWith('__')) continue;
    const owner = classes.find((c) => c.name === type.name);
    if (!owner || classes.filter((c) => c.name === type.name).length > 1) continue;
    // The classes whose fields and field resolvers this type has: itself, what it extends, what it implements.
    const related = (c: Class) => c === owner.target || owner.target.prototype instanceof c || !!owner.interfaceClasses?.includes(c);
    for (const field of Object.values(type.getFields())) {
      const declared = classes.flatMap((c) => c.fields ?? []).filter((f) => f.schemaName === field.name && related(f.target));
      const fieldResolvers = storage.fieldResolvers.filter((r) => r.schemaName === field.name && !!r.getObjectType && related(r.getObjectType()) && (r.kind === 'internal' || resolvers.includes(r.target)));
      const direct = fieldResolvers.length ? callOf(fieldResolvers, instances) : propertyOf(declared);
      if (direct && declared.every(hasNoGuard)) field.resolve = direct;
    }
  }
  return schema;
}

/** A read of the property behind the field, when every declaration agrees on it and none is guarded. */
function propertyOf(declared: readonly FieldMetadata[]): GraphQLFieldResolver<unknown, unknown> | undefined {
  const names = new Set(declared.map((f) => f.name));
  if (names.size !== 1) return undefined;
  const [name] = names as Set<string>;
  return (root) => (root as Record<string, unknown>)[name];
}

/** A call of the field resolver method, when it is the only one and takes only root, context and info. */
function callOf(resolvers: readonly FieldResolverMetadata[], instances: Map<Class, Record<string, (...args: unknown[]) => unknown>>): GraphQLFieldResolver<unknown, unknown> | undefined {
  if (resolvers.length !== 1) return undefined;
  const [resolver] = resolvers as [FieldResolverMetadata];
  const target = resolver.target as unknown as new () => Record<string, (...args: unknown[]) => unknown>;
  if (resolver.kind !== 'external' || !hasNoGuard(resolver) || target.length !== 0) return undefined;
  const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
  const plain = params.every((p, i) => p.index === i && (p.kind === 'info' || ((p.kind === 'root' || p.kind === 'context') && !p.propertyName && !('getType' in p && p.getType))));
  if (!plain) return undefined;
  let instance = instances.get(target);
  if (!instance) instances.set(target, (instance = new target()));
  const method = instance[resolver.methodName]!;
  const kinds = params.map((p) => p.kind);
  const self = instance;
  if (kinds.length === 2 && kinds[0] === 'root' && kinds[1] === 'context') return (root, _args, context) => method.call(self, root, context);
  return (root, _args, context, info) => method.apply(self, kinds.map((k) => (k === 'root' ? root : k === 'context' ? context : info)));
}
