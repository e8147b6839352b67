/**
 * Limits on what one operation may ask for, applied identically to HTTP (Apollo) and WebSocket
 * (graphql-ws): token count at parse time, depth and alias count as validation rules, and a cost
 * estimate once variables are known.
 */
import {
  getOperationAST,
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Limits } from '../config.js';
import { checkArgumentValues } from './argument-check.js';
import type { OperationVerdicts } from './operation-cache.js';

const limitError = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });

function depthRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    // A fragment's depth does not depend on where it is spread: computed once per fragment, so a
    // document whose fragments each spread the next twice costs linear time, not 2^n.
    const fragmentDepth = new Map<string, number>();
    const depthOfFragment = (name: string): number => {
      const known = fragmentDepth.get(name);
      if (known !== undefined) return known;
      fragmentDepth.set(name, 0); // a fragment cycle is reported by graphql's own rules
      const depth = depthOf(fragments.get(name)?.selectionSet);
      fragmentDepth.set(name, depth);
      return depth;
    };
    const depthOf = (set: SelectionSetNode | undefined): number => {
      if (!set) return 0;
      let deepest = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue; // introspection has its own shape
          deepest = Math.max(deepest, 1 + depthOf(sel.selectionSet));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet));
        } else {
          deepest = Math.max(deepest, depthOfFragment(sel.name.value));
        }
        if (deepest > maxDepth) return deepest;
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet);
        if (depth > maxDepth) context.reportError(limitError(`query depth ${depth} exceeds the limit of ${maxDepth}`));
      },
    };
  };
}

/**
 * How many selections an operation has once its fragments are spread in place. A few hundred
 * bytes of fragments that each spread the next twice expand to 2^30 selections; the cost
 * estimate (graphql-query-complexity) walks that expansion, so it is bounded here first, counted
 * once per fragment.
 */
export const MAX_EXPANDED_SELECTIONS = 50_000;

function expandedSelectionsRule(maxSelections: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    const fragmentSize = new Map<string, number>();
    const sizeOfFragment = (name: string): number => {
      const known = fragmentSize.get(name);
      if (known !== undefined) return known;
      fragmentSize.set(name, 0); // cycles are graphql's own rules' to report
      const size = sizeOf(fragments.get(name)?.selectionSet);
      fragmentSize.set(name, size);
      return size;
    };
    const sizeOf = (set: SelectionSetNode | undefined): number => {
      let size = 0;
      for (const sel of set?.selections ?? []) {
        size += sel.kind === Kind.FRAGMENT_SPREAD ? sizeOfFragment(sel.name.value) : 1 + sizeOf(sel.selectionSet);
      }
      return size;
    };
    return {
      OperationDefinition(node) {
        const size = sizeOf(node.selectionSet);
        if (size > maxSelections) {
          context.reportError(limitError(`the operation expands to more than ${maxSelections} selections once its fragments are spread`));
        }
      },
    };
  };
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  return fragments;
}

function aliasRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases++;
      },
      Document: {
        leave() {
          if (aliases > maxAliases) context.reportError(limitError(`${aliases} aliases exceed the limit of ${maxAliases}`));
        },
      },
    };
  };
}

export function limitRules(limits: Limits): ValidationRule[] {
  return [depthRule(limits.maxDepth), aliasRule(limits.maxAliases), expandedSelectionsRule(MAX_EXPANDED_SELECTIONS)];
}

export const parseOptions = (limits: Limits) => ({ maxTokens: limits.maxTokens });

/**
 * Brackets (`{`, `[`, `(`) nested deeper than this are refused before the document is parsed:
 * graphql-js parses recursively, and a few thousand levels (well within the token limit)
 * overflow its stack. Far above what query depth 12 and JSON depth 32 need.
 */
export const MAX_DOCUMENT_NESTING = 100;

/** The refusal for a document nested deeper than MAX_DOCUMENT_NESTING, or null. Skips strings and comments. */
export function documentNestingError(query: unknown): GraphQLError | null {
  if (typeof query !== 'string') return null;
  let depth = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === '#') {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (c === '"') {
      if (query.startsWith('"""', i)) {
        // a block string ends at the first """ that is not escaped as \"""
        for (i += 3; i < query.length && !query.startsWith('"""', i); i++) if (query.startsWith('\\"""', i)) i += 3;
        i += 2;
      } else {
        for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > MAX_DOCUMENT_NESTING) {
        return new GraphQLError(`the document nests brackets deeper than ${MAX_DOCUMENT_NESTING} levels`, {
          extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400 } },
        });
      }
    } else if ((c === '}' || c === ']' || c === ')') && depth > 0) {
      depth--;
    }
  }
  return null;
}

/**
 * Estimated cost: each field costs 1, or what its `complexity` extension says; list fields that
 * take `first` multiply their children by it. Throws when over the limit.
 */
export function assertCostWithinLimit(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  limits: Limits,
): void {
  let cost: number;
  try {
    cost = complexity(schema, document, variables, operationName);
  } catch (err) {
    // getComplexity coerces the variables itself, so a bad variable surfaces here first.
    if (err instanceof GraphQLError) {
      throw new GraphQLError(err.message, { nodes: err.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
    }
    throw err;
  }
  if (cost > limits.maxCost) throw limitError(`query cost ${cost} exceeds the limit of ${limits.maxCost}`);
}

function complexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): number {
  return getComplexity({
    schema,
    query: document,
    variables: variables ?? {},
    operationName: operationName ?? undefined,
    estimators: [
      fieldExtensionsEstimator(),
      ({ args, childComplexity }) => (typeof args.first === 'number' ? Math.max(1, args.first) * (childComplexity + 1) : undefined),
      simpleEstimator({ defaultComplexity: 1 }),
    ],
  });
}

/** Introspection outside development needs a signed-in user. */
export function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  const visit = (set: SelectionSetNode | undefined): void => {
    for (const sel of set?.selections ?? []) {
      if (found) return;
      if (sel.kind === Kind.FIELD && (sel.name.value === '__schema' || sel.name.value === '__type')) found = true;
      else if (sel.kind !== Kind.FRAGMENT_SPREAD) visit(sel.selectionSet);
    }
  };
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION) visit(def.selectionSet);
  }
  return found;
}

export interface OperationCheck {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined | null;
  signedIn: boolean;
  development: boolean;
  limits: Limits;
  /** Set for GraphQL over HTTP, which cannot carry a subscription's stream of results. */
  overHttp?: boolean;
}

/**
 * The checks that need the variables or the user, run after validation on both transports. With
 * `verdicts`, the argument check and cost estimate (which depend only on the document, the
 * operation name and the variables) run once per such combination.
 */
export function checkOperation(op: OperationCheck, verdicts?: OperationVerdicts): void {
  // No such operation in the document: graphql-js reports that itself, with a proper message.
  const operation = getOperationAST(op.document, op.operationName ?? undefined);
  if (!operation) return;
  if (op.overHttp && operation.operation === 'subscription') {
    throw new GraphQLError('subscriptions are served over WebSocket (graphql-transport-ws) at /graphql, not over HTTP', {
      extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
    });
  }
  if (!op.development && !op.signedIn && usesIntrospection(op.document)) {
    throw new GraphQLError('introspection needs a signed-in user', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
  const analyse = () => {
    checkArgumentValues(op.schema, op.document, op.variables, op.operationName, op.limits);
    assertCostWithinLimit(op.schema, op.document, op.variables, op.operationName, op.limits);
  };
  if (verdicts) verdicts.run(op.document, op.operationName, op.variables, analyse);
  else analyse();
}
