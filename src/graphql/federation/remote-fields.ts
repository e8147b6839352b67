/**
 * One graph across stages. A field of a remote stage (`stage(name: "prod") { assets … }`) is
 * answered by that stage's GraphQL endpoint: the client's own selection is forwarded, and all
 * such fields of one request for one stage travel together in a single remote call (a
 * DataLoader per request, keyed by stage). Remote answers are marked, so our own field resolvers
 * (which would read the local database) pass them through untouched.
 */
import DataLoader from 'dataloader';
import {
  Kind,
  print,
  visit,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { AppError } from '../../errors.js';
import type { RemoteAssetReader } from '../../services/drift.js';
import type { Services } from '../../services/index.js';
import type { Context } from '../context.js';

const REMOTE = Symbol('remote');

/** Marks remote data, deeply, so field resolvers know not to look it up locally. */
export function markRemote<T>(value: T): T {
  if (Array.isArray(value)) value.forEach(markRemote);
  else if (value && typeof value === 'object' && !(REMOTE in value)) {
    Object.defineProperty(value, REMOTE, { value: true, enumerable: false });
    Object.values(value).forEach(markRemote);
  }
  return value;
}

export const isRemote = (value: unknown): boolean => !!value && typeof value === 'object' && REMOTE in value;

/** Remote data already holds every selected field: answer from it instead of resolving locally. */
export const RemoteData: MiddlewareFn = async ({ root, info }, next) => {
  if (isRemote(root)) {
    const value = (root as Record<string, unknown>)[info.fieldName];
    if (typeof value === 'string' && (info.returnType.toString() === 'DateTimeISO!' || info.returnType.toString() === 'DateTimeISO')) {
      return new Date(value);
    }
    return value;
  }
  return next();
};

/**
 * The field as text for the remote query: the client's arguments and selection, fragments
 * inlined, aliases dropped (the answer is read back by field name), `__typename` added to every
 * selection so abstract types resolve.
 */
function forwardedField(info: GraphQLResolveInfo): { text: string; variables: Set<string> } {
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
  const field: FieldNode = { ...info.fieldNodes[0]!, alias: undefined, selectionSet: inline(info.fieldNodes[0]!.selectionSet) };
  visit(field, { Variable: (node) => void variables.add(node.name.value) });
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
              results[i] = error ? remote.remoteError(error) : markRemote(body.data?.[`f${n}`] ?? null);
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
  const { text, variables } = forwardedField(info);
  return ctx.loaders.remoteFields.load({ stage, text, variables, definitions: info.operation.variableDefinitions ?? [], values: info.variableValues });
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
    const found = await ctx.loaders.remoteFields.load({ stage, text, variables: new Set(), definitions: [], values: {} });
    if (found instanceof Error) throw found;
    if (!Array.isArray(found)) return new Map();
    return new Map(
      (found as { id: unknown; checksum: unknown; version: unknown }[])
        .filter((a) => a && typeof a.id === 'string' && typeof a.checksum === 'string')
        .map((a) => [a.id as string, { checksum: a.checksum as string, version: typeof a.version === 'string' ? a.version : null }]),
    );
  };
}
