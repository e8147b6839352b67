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
