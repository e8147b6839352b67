/**
 * The keyword syntax of asset search. `a|b` means either; `*` is a wildcard. A term without `*`
 * matches anywhere inside an attribute (`pet` finds "Swagger Petstore"); a term with `*` matches
 * a whole attribute (`graph*` finds attributes starting with graph, `*store` ending with store).
 * Case-insensitive. The result is one PostgreSQL regular expression in newline-sensitive mode,
 * matched against the asset's attributes joined by newlines (so `^`/`$` bound one attribute).
 */

import { textProblem } from './input-rules.js';

const REGEX_SPECIALS = /[\\^$.|?*+()[\]{}]/g;

export interface KeywordPattern {
  /** PostgreSQL ARE for `~*`, or null when the keyword has no terms (matches everything). */
  regex: string | null;
  terms: string[];
}

/**
 * How much one keyword may ask of PostgreSQL's regex engine. The time a match takes grows with
 * the pattern's length and its `.*`s, and a backend is held for all of it: bounded before any
 * query is built, the limit stated in the refusal.
 */
export interface KeywordBounds {
  maxChars: number;
  maxAlternatives: number;
  maxWildcards: number;
}

export const defaultKeywordBounds: KeywordBounds = { maxChars: 256, maxAlternatives: 16, maxWildcards: 8 };

/** A keyword over the bounds; the message states the limit and never repeats the keyword. */
export class KeywordError extends Error {}

export function parseKeyword(keyword: string | null | undefined, bounds: KeywordBounds = defaultKeywordBounds): KeywordPattern {
  const text = keyword ?? '';
  if (text.length > bounds.maxChars) throw new KeywordError(`keyword must be at most ${bounds.maxChars} characters`);
  const problem = textProblem(text);
  if (problem) throw new KeywordError(`keyword ${problem}`);
  if (text.split('|').length > bounds.maxAlternatives) throw new KeywordError(`keyword may have at most ${bounds.maxAlternatives} alternatives (a|b)`);
  if (text.split('*').length - 1 > bounds.maxWildcards) throw new KeywordError(`keyword may have at most ${bounds.maxWildcards} wildcards (*)`);
  const terms = text
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
