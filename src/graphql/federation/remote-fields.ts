/**
 * One graph across stages. A field of a remote stage (`stage(name: "prod") { assets … }`) is
 * answered by that stage's GraphQL endpoint: the client's own selection is forwarded, and all
 * such fields of one request for one stage travel together in a single remote call (a
 * DataLoader per request, keyed by stage). Remote answers are marked, so our own field resolvers
 * (which would read the local database) pass them through untouched.
 */
import DataLoader from 'dataloader';
import {
  astFromValue,
  defaultFieldResolver,
  getArgumentValues,
  getNullableType,
  isObjectType,
  Kind,
  print,
  visit,
  type ArgumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { AppError } from '../../errors.js';
import type { RemoteAssetReader } from '../../services/drift.js';
import type { Services } from '../../services/index.js';
import type { Context } from '../context.js';
import { localizeArguments } from '../global-ids.js';
import { encodeGlobalId, rawKey, type NodeKind } from '../node-id.js';

const REMOTE = Symbol('remote');

/**
 * Marks remote data, deeply, with the stage it came from (by the name this instance knows it by),
 * so field resolvers know not to look it up locally and ids name that stage.
 */
export function markRemote<T>(value: T, stage: string): T {
  if (Array.isArray(value)) value.forEach((item) => markRemote(item, stage));
  else if (value && typeof value === 'object' && !(REMOTE in value)) {
    Object.defineProperty(value, REMOTE, { value: stage, enumerable: false });
    Object.values(value).forEach((item) => markRemote(item, stage));
  }
  return value;
}

export const isRemote = (value: unknown): boolean => !!value && typeof value === 'object' && REMOTE in value;

/** The stage remote data came from; null for our own. */
export const remoteStageOf = (value: unknown): string | null => (isRemote(value) ? ((value as { [REMOTE]: string })[REMOTE] ?? null) : null);

const isDateTime = (type: GraphQLOutputType) => getNullableType(type).toString() === 'DateTimeISO';

/**
 * Remote data already holds every selected field: each field of an object type answers from it
 * instead of resolving locally (our field resolvers would read the local database). Installed on
 * the built schema as a plain synchronous wrapper of each field's resolver — not as a type-graphql
 * global middleware, which would make every field of every query asynchronous.
 */
export function answerRemoteDataFromItself(schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || roots.has(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const local = field.resolve ?? defaultFieldResolver;
      const name = field.name;
      // Remote answers carry DateTimeISO values as their JSON text.
      const fromRemote = isDateTime(field.type)
        ? (root: Record<string, unknown>) => (typeof root[name] === 'string' ? new Date(root[name] as string) : root[name])
        : (root: Record<string, unknown>) => root[name];
      field.resolve = (root, args, context, info) => (isRemote(root) ? fromRemote(root as Record<string, unknown>) : local(root, args, context, info));
    }
  }
  return schema;
}

/**
 * The field as text for the remote query: the client's arguments and selection, fragments
 * inlined, aliases dropped (the answer is read back by field name), `__typename` added to every
 * selection so abstract types resolve. The field's own arguments travel as literals with their
 * ids as raw keys (a global id names the stage as this instance knows it, which the remote may
 * not); `replace` forwards another field (name and arguments) with the client's selection.
 */
function forwardedField(
  info: GraphQLResolveInfo,
  stage: string,
  replace?: { name: string; args: { name: string; value: string }[] },
): { text: string; variables: Set<string> } {
  const fragments = info.fragments as Record<string, FragmentDefinitionNode>;
  const variables = new Set<string>();
  const inline = (set: SelectionSetNode | undefined): SelectionSetNode | undefined =>
    set && {
      ...set,
      selections: [
        { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } },
        ...set.selections.map((s) => {
          if (s.kind === Kind.FRAGMENT_SPREAD) {
            const fragment = fragments[s.name.value]!;
            return { kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, selectionSet: inline(fragment.selectionSet)! } as const;
          }
          if (s.kind === Kind.FIELD) return { ...s, alias: undefined, selectionSet: inline(s.selectionSet) };
          return { ...s, selectionSet: inline(s.selectionSet)! };
        }),
      ],
    };
  const node = info.fieldNodes[0]!;
  let args: ArgumentNode[];
  let name = node.name;
  if (replace) {
    name = { kind: Kind.NAME, value: replace.name };
    args = replace.args.map((a) => ({ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: a.name }, value: { kind: Kind.STRING, value: a.value } }));
  } else {
    const definition = info.parentType.getFields()[info.fieldName]!;
    const values = localizeArguments(definition, getArgumentValues(definition, node, info.variableValues), stage);
    args = definition.args.flatMap((a) => {
      const value = values[a.name] === undefined ? null : astFromValue(values[a.name], a.type);
      return value ? [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: a.name }, value } as ArgumentNode] : [];
    });
  }
  const field: FieldNode = { ...node, name, arguments: args, alias: undefined, selectionSet: inline(node.selectionSet) };
  visit(field, { Variable: (variable) => void variables.add(variable.name.value) });
  return { text: print(field), variables };
}

interface RemoteFieldRequest {
  stage: string;
  text: string;
  variables: Set<string>;
  definitions: readonly VariableDefinitionNode[];
  values: Record<string, unknown>;
}

/** A per-request loader: one remote call per stage for all the fields asked of it. */
export function createRemoteFieldLoader(services: Services): DataLoader<RemoteFieldRequest, unknown, string> {
  return new DataLoader<RemoteFieldRequest, unknown, string>(
    async (requests) => {
      const results: unknown[] = new Array(requests.length);
      const byStage = new Map<string, number[]>();
      requests.forEach((r, i) => byStage.set(r.stage, [...(byStage.get(r.stage) ?? []), i]));
      await Promise.all(
        [...byStage].map(async ([stage, indexes]) => {
          try {
            const remote = await services.stages.remote(stage);
            const used = new Set(indexes.flatMap((i) => [...requests[i]!.variables]));
            const definitions = requests[indexes[0]!]!.definitions.filter((d) => used.has(d.variable.name.value));
            const header = definitions.length ? `(${definitions.map((d) => print(d)).join(', ')})` : '';
            const query = `query${header} { ${indexes.map((i, n) => `f${n}: ${requests[i]!.text}`).join(' ')} }`;
            const values = Object.fromEntries([...used].map((v) => [v, requests[indexes[0]!]!.values[v]]));
            const body = await remote.queryRaw(query, values);
            indexes.forEach((i, n) => {
              const error = body.errors?.find((e) => e.path?.[0] === `f${n}`) ?? (body.data ? undefined : body.errors?.[0]);
              results[i] = error ? remote.remoteError(error) : markRemote(body.data?.[`f${n}`] ?? null, stage);
            });
          } catch (err) {
            // Unexpected failures are ours, not the remote's words: masked like any other.
            const error = err instanceof AppError ? err : new AppError('STAGE_UNREACHABLE', `stage ${stage}: unreachable`);
            for (const i of indexes) results[i] = error;
          }
        }),
      );
      return results;
    },
    { cacheKeyFn: (r) => `${r.stage}\u0000${r.text}` },
  );
}

/**
 * Resolves the current field on a remote stage, batched with its siblings. The caller must be
 * allowed to read remote stages: the call goes out with the stage's stored credentials.
 */
export async function resolveRemotely(ctx: Context, stage: string, info: GraphQLResolveInfo): Promise<unknown> {
  ctx.services.stages.assertMayReadRemote(ctx.user, [stage]);
  const { text, variables } = forwardedField(info, stage);
  return ctx.loaders.remoteFields.load({ stage, text, variables, definitions: info.operation.variableDefinitions ?? [], values: info.variableValues });
}

/**
 * Asks a remote stage for one object by key with the client's selection (`node(id)` for an id
 * of that stage): the remote's `node` field, with the id re-encoded in the stage's own name.
 */
export async function resolveNodeRemotely(ctx: Context, stage: string, id: { kind: NodeKind; key: string }, info: GraphQLResolveInfo): Promise<unknown> {
  ctx.services.stages.assertMayReadRemote(ctx.user, [stage]);
  const remote = await ctx.services.stages.remote(stage);
  const theirId = encodeGlobalId(id.kind, await remote.ownStageName(), id.key);
  const { text, variables } = forwardedField(info, stage, { name: 'node', args: [{ name: 'id', value: theirId }] });
  const found = await ctx.loaders.remoteFields.load({ stage, text, variables, definitions: info.operation.variableDefinitions ?? [], values: info.variableValues });
  if (found instanceof Error) throw found;
  return found;
}

/**
 * Reads assets of remote stages through the same per-request loader, so the drift matrix and
 * `stage(name)` fields of one operation share one call per stage. The privilege is the caller's
 * to check first (the matrix checks all its stages at once).
 */
export function remoteAssetReader(ctx: Context): RemoteAssetReader {
  return async (stage, ids) => {
    if (!ids.length) return new Map();
    const text = `assetsByIds(ids: ${JSON.stringify(ids)}) { id checksum version }`;
    // The remote answers global ids (of its own name for itself): compared by raw key.
    const found = await ctx.loaders.remoteFields.load({ stage, text, variables: new Set(), definitions: [], values: {} });
    if (found instanceof Error) throw found;
    if (!Array.isArray(found)) return new Map();
    return new Map(
      (found as { id: unknown; checksum: unknown; version: unknown }[])
        .filter((a) => a && typeof a.id === 'string' && typeof a.checksum === 'string')
        .map((a) => [rawKey(a.id as string), { checksum: a.checksum as string, version: typeof a.version === 'string' ? a.version : null }]),
    );
  };
}
