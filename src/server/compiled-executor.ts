/**
 * Queries over HTTP that a client sends again (a portal page, a CI script's status poll) run
 * through graphql-jit: compiled once into plain JavaScript, then executed without graphql-js's
 * per-field interpretation (argument coercion, type checks and path bookkeeping on every field).
 * Apollo Server 5 has no executor option; its gateway interface is the documented way to supply
 * one, and here it serves a fixed, local schema.
 *
 * Only operations whose compiled answer is graphql-js's and whose code stays small are compiled:
 * compilable.ts lists what jit reads differently (mutations, introspection, @skip/@include, some
 * variables) and counts the fields it would generate (at most 1,000). Compiling costs event-loop
 * time (~0.1 ms a field; a portal page's query ~60 ms the first time), so it is also earned and
 * rationed: a document is compiled on its third execution, only if its text is at most 8 KiB,
 * within 20,000 compiled fields a minute in all, and at most 64 compiled documents are kept
 * (least recently used dropped). One-off documents (an explorer session, a hostile client sending
 * new documents) and anything over the budget run interpreted with graphql-js, as they would
 * without this module. Per-document state hangs off Apollo's parsed document (a WeakMap), so it
 * leaves with it; jit compiles a fresh parse of the text, never that shared document.
 *
 * Subscriptions are not affected: graphql-ws executes them (see ws-transport.ts).
 */
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { execute, GraphQLError, parse, printSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { compileCost } from './compilable.js';

// The gateway interface's own package is Apollo's dependency, not ours: its types, from Apollo's.
type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;

/** When a document is compiled; the defaults are what the server uses. */
export interface CompilePolicy {
  /** Executions of one document (per operation name) before it is compiled. */
  compileAfter: number;
  /** Longer document texts are never compiled. */
  maxCompiledText: number;
  /** Larger operations (fields once fragments and interfaces are expanded, compilable.ts) are never compiled. */
  maxExpandedFields: number;
  /** Fields compiled per minute, all documents together (~0.1 ms of compilation each). */
  compiledFieldsPerMinute: number;
  /** Compiled documents kept (least recently used dropped first; ~1 MB per 1,000 fields each). */
  maxCompiledDocuments: number;
  /** Told of each compilation (tests). */
  onCompiled?: (document: DocumentNode) => void;
  now?: () => number;
}

// 1,000 fields compile in ~100 ms (the portal's page query: ~580) into ~1 MB of code.
// ~2 s of compilation a minute, however the documents are chosen; at most ~64 MB of compiled code.
export const defaultCompilePolicy: CompilePolicy = { compileAfter: 3, maxCompiledText: 8 * 1024, maxExpandedFields: 1_000, compiledFieldsPerMinute: 20_000, maxCompiledDocuments: 64 };

interface Compilation {
  runs: number;
  /** Fields of generated code (compilable.ts); null: not to be compiled; undefined: not yet counted. */
  cost?: number | null;
  compiled: CompiledQuery | null;
}

/** An Apollo "gateway" with no remote services: our own schema, executed by `compiledExecutor`. */
export function localGateway(schema: GraphQLSchema): GatewayInterface {
  return {
    async load() {
      return { executor: compiledExecutor(schema) };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}

export function compiledExecutor(schema: GraphQLSchema, policy: CompilePolicy = defaultCompilePolicy): GatewayExecutor {
  const byDocument = new WeakMap<DocumentNode, Map<string, Compilation>>();
  const { compileAfter, maxCompiledText, maxExpandedFields, compiledFieldsPerMinute, maxCompiledDocuments, onCompiled, now = Date.now } = policy;
  // Compilations holding code, least recently used first. Apollo's document store is bounded by
  // the size of the documents' text, not of the code hanging off them: this bounds the code.
  const holding = new Set<Compilation>();
  const used = (compilation: Compilation) => {
    holding.delete(compilation);
    holding.add(compilation);
    for (const oldest of holding) {
      if (holding.size <= maxCompiledDocuments) break;
      holding.delete(oldest);
      oldest.compiled = null;
      oldest.runs = 0; // earns its compilation again if it comes back
    }
  };
  // A token bucket of fields: compiledFieldsPerMinute tokens, refilled continuously.
  let tokens = compiledFieldsPerMinute;
  let refilledAt = now();
  const mayCompile = (fields: number): boolean => {
    const at = now();
    tokens = Math.min(compiledFieldsPerMinute, tokens + ((at - refilledAt) / 60_000) * compiledFieldsPerMinute);
    refilledAt = at;
    if (tokens < fields) return false;
    tokens -= fields;
    return true;
  };

  function compilationOf(document: DocumentNode, operationName: string | null | undefined): Compilation {
    let byOperation = byDocument.get(document);
    if (!byOperation) byDocument.set(document, (byOperation = new Map()));
    const key = operationName ?? '';
    let compilation = byOperation.get(key);
    if (!compilation) byOperation.set(key, (compilation = { runs: 0, compiled: null }));
    return compilation;
  }

  return async ({ document, request, context }) => {
    // The name the client sent, not Apollo's resolved one (null when it names no operation here).
    const operationName = request.operationName;
    const compilation = compilationOf(document, operationName);
    if (!compilation.compiled && ++compilation.runs >= compileAfter) {
      // Once decided not to compile, a document stays interpreted for good (runs = -Infinity).
      compilation.cost ??= (request.query?.length ?? Infinity) > maxCompiledText ? null : compileCost(schema, document, operationName, maxExpandedFields);
      if (compilation.cost === null || compilation.cost > maxExpandedFields) compilation.runs = -Infinity;
      else if (mayCompile(compilation.cost)) {
        // From a fresh parse of the same text: jit annotates the AST it compiles, and Apollo's
        // cached document (shared by every request with this text) must stay as parsed.
        const compiled = compileQuery(schema, parse(request.query!, { noLocation: document.loc === undefined }), operationName ?? undefined);
        if (isCompiledQuery(compiled)) {
          compilation.compiled = compiled;
          onCompiled?.(document);
        } else compilation.runs = -Infinity; // cannot happen for a validated document
      }
    }
    const interpreted = () => execute({ schema, document, contextValue: context, variableValues: request.variables, operationName });
    const { compiled } = compilation;
    if (!compiled) return interpreted();
    used(compilation);
    const result = await compiled.query(undefined, context, request.variables ?? {});
    // No `data`: the variables were refused before any resolver ran. graphql-js refuses them
    // again with the errors Apollo recognises (it reads their nodes) as BAD_USER_INPUT with 400.
    if (!('data' in result)) return interpreted();
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
}

/**
 * graphql-jit's errors carry message, locations, path and the thrown error but no `extensions`
 * object, which Apollo's error formatting reads: rebuilt as graphql-js errors, they take the
 * thrown error's extensions and stack as graphql-js's own do.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  if (error.extensions) return error;
  // jit's own errors (a null in a non-null field, a value its scalar cannot serialise) carry no
  // thrown error; graphql-js's carry a plain Error, which the formatter masks and logs as internal.
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? new Error(error.message) });
  // graphql-js derives locations from AST nodes, which jit's errors no longer hold.
  (rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return rebuilt;
}
