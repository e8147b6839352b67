/**
 * What any text or JSON value coming from outside must satisfy before we look at it further.
 * Pure rules, shared by the GraphQL edge (every argument), asset specs (create, update, archive
 * import) and cursors, so all paths refuse the same things the same way.
 */

/**
 * PostgreSQL cannot store NUL in text or jsonb, and a lone UTF-16 surrogate would be stored as
 * U+FFFD (so a checksum over the original no longer matches): both are refused.
 */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  if (!value.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return null;
}

export interface JsonBounds {
  /** Deepest nesting of objects and arrays (the value itself is depth 1). */
  maxDepth: number;
  /** Most characters the value may take as JSON (approximated while walking). */
  maxChars: number;
}

export const defaultJsonBounds: JsonBounds = { maxDepth: 32, maxChars: 256 * 1024 };

/**
 * The first problem of a JSON value: too deep, too large, or a bad string (keys included).
 * Walks without recursion and stops at the first problem, so a 100,000-level value costs as
 * much as `maxDepth` levels of it.
 */
export function jsonProblem(value: unknown, bounds: JsonBounds = defaultJsonBounds): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let chars = 0;
  while (stack.length) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      chars += v.length + 2;
      const problem = textProblem(v);
      if (problem) return `a string ${problem}`;
    } else if (v !== null && typeof v === 'object') {
      if (depth + 1 > bounds.maxDepth) return `nests deeper than ${bounds.maxDepth} levels`;
      if (Array.isArray(v)) {
        chars += 2 + v.length;
        for (const item of v) stack.push({ value: item, depth: depth + 1 });
      } else {
        for (const [key, item] of Object.entries(v)) {
          chars += key.length + 4;
          const problem = textProblem(key);
          if (problem) return `a key ${problem}`;
          // JSON.parse keeps it as a key, but any copy of the object (spread, assignment) sets
          // the prototype instead: the value would vanish silently. Refused like NUL.
          if (key === '__proto__') return 'a key must not be __proto__';
          stack.push({ value: item, depth: depth + 1 });
        }
      }
    } else {
      chars += 8;
    }
    if (chars > bounds.maxChars) return `is larger than ${bounds.maxChars} characters as JSON`;
  }
  return null;
}
