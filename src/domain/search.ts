/**
 * The keyword syntax of asset search. `a|b` means either; `*` is a wildcard. A term without `*`
 * matches anywhere inside an attribute (`pet` finds "Swagger Petstore"); a term with `*` matches
 * a whole attribute (`graph*` finds attributes starting with graph, `*store` ending with store).
 * Case-insensitive. The result is one PostgreSQL regular expression in newline-sensitive mode,
 * matched against the asset's attributes joined by newlines (so `^`/`$` bound one attribute).
 */

const REGEX_SPECIALS = /[\\^$.|?*+()[\]{}]/g;

export interface KeywordPattern {
  /** PostgreSQL ARE for `~*`, or null when the keyword has no terms (matches everything). */
  regex: string | null;
  terms: string[];
}

export function parseKeyword(keyword: string | null | undefined): KeywordPattern {
  const terms = (keyword ?? '')
    .split('|')
    .map((t) => t.trim())
    .filter((t) => t.length > 0 && t !== '*');
  if (terms.length === 0) return { regex: null, terms: [] };
  const alternatives = terms.map((term) => {
    const body = term
      .split('*')
      .map((part) => part.replace(REGEX_SPECIALS, '\\$&'))
      .join('.*');
    return term.includes('*') ? `^${body}$` : body;
  });
  return { regex: `(?n)${alternatives.map((a) => `(${a})`).join('|')}`, terms };
}

/** Every string inside a value (spec strings included), for the search text. */
export function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value) out.push(value.replace(/\n/g, ' '));
  } else if (Array.isArray(value)) {
    for (const v of value) collectStrings(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectStrings(v, out);
  }
  return out;
}

/** Same semantics as the SQL side, for pure unit tests and in-memory filtering. */
export function matchesKeyword(pattern: KeywordPattern, attributes: readonly string[]): boolean {
  if (!pattern.regex) return true;
  const js = new RegExp(pattern.regex.replace('(?n)', ''), 'i');
  return attributes.some((a) => js.test(a));
}
