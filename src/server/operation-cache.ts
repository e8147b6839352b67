/**
 * Per-document memory for the checks every operation goes through, so a client repeating the
 * same query (a portal page, a dashboard poll) pays for parsing, validation, the argument check
 * and the cost estimate once, not on every request.
 *
 *  - `ValidatedDocuments`: query text → parsed document and its validation errors (graphql-ws;
 *    Apollo keeps its own store of parsed, validated documents for HTTP).
 *  - `OperationVerdicts`: (document, operation name, variables) → the verdict of the argument
 *    check and the cost limit. Keyed by the document object itself (both stores hand out the same
 *    object for the same text), so a document dropped from its store takes its verdicts along.
 *
 * Both are bounded: a flood of distinct documents or variables evicts old entries rather than
 * growing memory, and oversized texts or variables are checked every time instead of stored.
 */
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';

/** Documents (by text) kept parsed and validated. */
const MAX_DOCUMENTS = 500;
/** Longer query texts are not kept (they are parsed each time). */
const MAX_CACHED_TEXT = 64 * 1024;
/** Verdicts kept per document (distinct variable sets). */
const MAX_VERDICTS_PER_DOCUMENT = 64;
/** Variables whose JSON is longer are checked each time, not remembered. */
const MAX_CACHED_VARIABLES = 4 * 1024;

export interface ValidatedDocument {
  document: DocumentNode;
  /** Validation errors; empty when the document is valid against the schema and the limit rules. */
  errors: readonly GraphQLError[];
}

/** A least-recently-used map: Map keeps insertion order, so the first key is the oldest. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
  return value;
}

export class ValidatedDocuments {
  private readonly byText = new Map<string, ValidatedDocument>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly parseOptions: ParseOptions,
  ) {}

  /** Throws the GraphQLError of a syntax error (or of too many tokens); never cached. */
  get(text: string): ValidatedDocument {
    const known = this.byText.get(text);
    if (known) return remember(this.byText, text, known, MAX_DOCUMENTS);
    const document = parse(text, this.parseOptions);
    const validated = { document, errors: validate(this.schema, document, this.rules) };
    return text.length <= MAX_CACHED_TEXT ? remember(this.byText, text, validated, MAX_DOCUMENTS) : validated;
  }
}

export class OperationVerdicts {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, GraphQLError | null>>();

  /**
   * Runs `check` (which throws a GraphQLError to refuse) once per document, operation name and
   * variables; later calls with the same inputs repeat its verdict. Only GraphQLErrors are
   * remembered: anything else is a fault, thrown and not kept.
   */
  run(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined, check: () => void): void {
    let variablesKey: string;
    try {
      variablesKey = variables && Object.keys(variables).length ? JSON.stringify(variables) : '';
    } catch {
      // Too deep to serialise (a hostile nesting): the check itself refuses it, uncached.
      return check();
    }
    if (variablesKey.length > MAX_CACHED_VARIABLES) return check();
    const key = `${operationName ?? ''}\u0000${variablesKey}`;
    let verdicts = this.byDocument.get(document);
    if (!verdicts) this.byDocument.set(document, (verdicts = new Map()));
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      try {
        check();
        verdict = null;
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        verdict = err;
      }
      remember(verdicts, key, verdict, MAX_VERDICTS_PER_DOCUMENT);
    }
    // A fresh error each time: the request pipeline may decorate the one it receives.
    if (verdict) throw new GraphQLError(verdict.message, { nodes: verdict.nodes, source: verdict.source, positions: verdict.positions, extensions: { ...verdict.extensions } });
  }
}
