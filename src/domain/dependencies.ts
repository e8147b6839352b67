/**
 * Which asset may reference which, and whether the reference is required or optional
 * (webMethods' table, DESIGN §2). Kept as data, in one place: everything else asks this table.
 */
import { assetCatalog, assetTypes, type AssetType } from './asset-types.js';

export type ReferenceKind = 'REQUIRED' | 'OPTIONAL';

/** The table, read off the catalog: the types that reference anything. */
export const dependencyTable: Partial<Record<AssetType, { required: readonly AssetType[]; optional: readonly AssetType[] }>> = Object.fromEntries(
  assetTypes
    .filter((t) => assetCatalog[t].required?.length || assetCatalog[t].optional?.length)
    .map((t) => [t, { required: assetCatalog[t].required ?? [], optional: assetCatalog[t].optional ?? [] }]),
);

/** The kind of a reference from one type to another, or null when the table does not allow it. */
export function referenceKind(from: AssetType, to: AssetType): ReferenceKind | null {
  const rule = dependencyTable[from];
  if (rule?.required.includes(to)) return 'REQUIRED';
  if (rule?.optional.includes(to)) return 'OPTIONAL';
  return null;
}

export type OptionalChoice = 'ALL' | 'NONE' | 'SELECTED';

export interface GraphNode {
  id: string;
  /** Outgoing references of this node. */
  references: readonly { to: string; kind: ReferenceKind }[];
}

/**
 * The transitive set of assets to move with `roots`: required references always, optional ones
 * by choice (all, none, or those whose target is in `optionalIds`). Returned in apply order:
 * every asset after the ones it references. Cycles (possible through optional references) are
 * broken deterministically: a node already on the path is not waited for.
 */
export function dependencyClosure(
  roots: readonly string[],
  nodeOf: (id: string) => GraphNode | undefined,
  optional: OptionalChoice = 'NONE',
  optionalIds: ReadonlySet<string> = new Set(),
): string[] {
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const follows = (ref: { to: string; kind: ReferenceKind }) =>
    ref.kind === 'REQUIRED' || optional === 'ALL' || (optional === 'SELECTED' && optionalIds.has(ref.to));

  // The references a node's frame walks, followed and sorted once per frame (not per step).
  const targets = (id: string) =>
    (nodeOf(id)?.references ?? [])
      .filter(follows)
      .map((r) => r.to)
      .sort();

  // Iterative DFS (post-order) so deep chains cannot overflow the stack.
  for (const root of roots) {
    if (state.has(root) || !nodeOf(root)) continue;
    const stack: { id: string; next: number; refs: string[] }[] = [{ id: root, next: 0, refs: targets(root) }];
    state.set(root, 'visiting');
    while (stack.length) {
      const frame = stack[stack.length - 1]!;
      if (frame.next < frame.refs.length) {
        const to = frame.refs[frame.next++]!;
        if (!state.has(to) && nodeOf(to)) {
          state.set(to, 'visiting');
          stack.push({ id: to, next: 0, refs: targets(to) });
        }
      } else {
        state.set(frame.id, 'done');
        ordered.push(frame.id);
        stack.pop();
      }
    }
  }
  return ordered;
}
