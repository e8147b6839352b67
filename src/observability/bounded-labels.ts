/**
 * Label values a client chooses (GraphQL operation names) kept to a bounded set, so a client
 * sending a fresh name per request cannot grow the metrics without end: the first `max`
 * distinct names are kept, later ones count as "other".
 */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

export const ANONYMOUS = 'anonymous';
export const OTHER = 'other';

export class BoundedNames {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /**
   * The label for a name: itself while there is room, ANONYMOUS for none, OTHER beyond the cap or
   * when malformed. Only a trusted caller (`mayAdd`) takes one of the places: otherwise anyone
   * could fill them with junk names and leave every real operation counted as "other".
   */
  label(name: string | null | undefined, mayAdd = true): string {
    if (!name) return ANONYMOUS;
    if (this.seen.has(name)) return name;
    if (!mayAdd || this.seen.size >= this.max || !GRAPHQL_NAME.test(name)) return OTHER;
    this.seen.add(name);
    return name;
  }
}

/** An error code as a label: codes are upper-case words; anything else is "OTHER". */
export function codeLabel(code: unknown): string {
  return typeof code === 'string' && /^[A-Z][A-Z_]{0,39}$/.test(code) ? code : 'OTHER';
}
