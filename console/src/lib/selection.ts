/**
 * The promote wizard's choice of optional dependencies, turned into the API's
 * `optional` / `optionalIds` arguments.
 */
export type OptionalMode = 'ALL' | 'NONE' | 'SELECTED';

export function optionalArguments(mode: OptionalMode, selected: ReadonlySet<string>): { optional: OptionalMode; optionalIds: string[] } {
  if (mode !== 'SELECTED') return { optional: mode, optionalIds: [] };
  // Nothing picked is NONE: the API would otherwise be asked for an empty selection.
  if (selected.size === 0) return { optional: 'NONE', optionalIds: [] };
  return { optional: 'SELECTED', optionalIds: [...selected].sort() };
}

/** Toggles one id in a set, returning a new set (React state stays immutable). */
export function toggle<T>(set: ReadonlySet<T>, value: T): Set<T> {
  const next = new Set(set);
  if (next.has(value)) next.delete(value);
  else next.add(value);
  return next;
}

/** Parses "host:port[:weight]" lines into upstream nodes; returns the bad lines too. */
export function parseNodes(text: string): { nodes: { host: string; port: number; weight: number }[]; bad: string[] } {
  const nodes: { host: string; port: number; weight: number }[] = [];
  const bad: string[] = [];
  for (const line of text.split(/[\n,]+/).map((l) => l.trim()).filter(Boolean)) {
    const m = /^([^\s:]+):(\d{1,5})(?::(\d{1,4}))?$/.exec(line);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) bad.push(line);
    else nodes.push({ host: m[1]!, port, weight: m[3] ? Number(m[3]) : 1 });
  }
  return { nodes, bad };
}
