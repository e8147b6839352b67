/**
 * Names as users type them ("Registry for Test", "Production Group"): display names may hold
 * spaces and any printable character, and a separate slug serves URLs and keys. Pure rules.
 */
import { textProblem } from './input-rules.js';

/** Control characters (C0, DEL, C1) and the line/paragraph separators: never part of a name. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * The problem with a display name, or null. The name is judged as given: callers trim first
 * (leading and trailing spaces are never part of a name), so " a" and "a" are one name.
 */
export function displayNameProblem(name: string, maxLength = 100): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > maxLength) return `must be at most ${maxLength} characters`;
  const text = textProblem(name);
  if (text) return text;
  if (CONTROL.test(name)) return 'must not contain control characters or line breaks';
  if (name !== name.trim()) return 'must not start or end with spaces';
  if (/\s{2,}/.test(name)) return 'must not contain runs of spaces';
  return null;
}

/**
 * The URL/key form of a display name: lower-case letters, digits and single dashes
 * ("Registry for Test" → "registry-for-test"). Letters outside ASCII are folded where Unicode
 * can (é → e) and dropped otherwise; an empty result falls back to `fallback`.
 */
export function slugOf(name: string, fallback = 'item'): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
  return slug || fallback;
}
