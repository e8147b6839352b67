/**
 * Alias choice per stage (DESIGN §2): for an alias name, the variant bound to the target stage,
 * else the unbound one, else none.
 */
export interface AliasVariant {
  name: string;
  stage: string | null;
}

export function chooseAlias<T extends AliasVariant>(variants: readonly T[], name: string, stage: string): T | undefined {
  const named = variants.filter((v) => v.name === name);
  return named.find((v) => v.stage === stage) ?? named.find((v) => v.stage === null);
}

export interface AliasRow {
  id: string;
  name: string;
  /** The stage this variant is bound to; null = unbound. */
  stage: string | null;
}

/** How one alias row travels to the target stage. */
export type AliasShipment =
  /** Under its own id with its own content (the chosen variant itself, or an inert variant). */
  | { id: string; kind: 'AS_IS' }
  /** Under its own id (the id other assets reference) with the content of the chosen variant. */
  | { id: string; kind: 'SLOT'; contentOf: string }
  /** The source has no value for the target: nothing travels, the target decides (kept or refused). */
  | { id: string; kind: 'UNAVAILABLE'; name: string };

/**
 * Aliases down a chain (DESIGN §2). `selected` are the alias rows a promotion moves (referenced
 * by its assets or chosen), `variants` every row of the same names, `referenced` the ids other
 * moved assets point at.
 *
 * - A slot (an unbound row, or any row another asset references) travels under its id with the
 *   content of the variant for the target (bound to it, else unbound) — bound to the target when
 *   that variant is, so `aliasFor(name, target)` answers it there. No such variant: UNAVAILABLE.
 * - A variant bound to the source stage stays home; one bound to the target is merged into the
 *   slot (sending both would clash on the target's natural key).
 * - Variants bound to any other stage travel as themselves, selected or not, and stay inert on
 *   the target, so values defined once on Dev for QA and Prod reach Prod through QA.
 * Returns the rows to send in order: inert extras first (aliases depend on nothing).
 */
export function aliasShipments(
  selected: readonly AliasRow[],
  variants: readonly AliasRow[],
  referenced: ReadonlySet<string>,
  sourceStage: string,
  targetStage: string,
): AliasShipment[] {
  const isSlot = (r: AliasRow) => r.stage === null || referenced.has(r.id);
  const selectedIds = new Set(selected.map((r) => r.id));
  const names = [...new Set(selected.map((r) => r.name))];
  const inert = (r: AliasRow) => r.stage !== null && r.stage !== sourceStage && r.stage !== targetStage;
  const extras: AliasShipment[] = variants
    .filter((v) => names.includes(v.name) && inert(v) && !selectedIds.has(v.id))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((v) => ({ id: v.id, kind: 'AS_IS' }));
  const shipped: AliasShipment[] = [];
  for (const r of selected) {
    if (isSlot(r)) {
      const chosen = chooseAlias(variants, r.name, targetStage);
      if (!chosen) shipped.push({ id: r.id, kind: 'UNAVAILABLE', name: r.name });
      else shipped.push(chosen.id === r.id ? { id: r.id, kind: 'AS_IS' } : { id: r.id, kind: 'SLOT', contentOf: chosen.id });
    } else if (r.stage === sourceStage) {
      continue; // the source's own value stays home
    } else if (r.stage === targetStage) {
      if (!selected.some((s) => s.name === r.name && isSlot(s))) shipped.push({ id: r.id, kind: 'AS_IS' });
    } else {
      shipped.push({ id: r.id, kind: 'AS_IS' });
    }
  }
  return [...extras, ...shipped];
}
