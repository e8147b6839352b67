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
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let deepest = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue; // introspection has its own shape
          deepest = Math.max(deepest, 1 + depthOf(sel.selectionSet, seen));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet, seen));
        } else {
          const name = sel.name.value;
          if (seen.has(name)) continue; // a fragment cycle is reported by graphql's own rules
          deepest = Math.max(deepest, depthOf(fragments.get(name)?.selectionSet, new Set([...seen, name])));
        }
        if (deepest > maxDepth) return deepest;
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > maxDepth) context.reportError(limitError(`query depth ${depth} exceeds the limit of ${maxDepth}`));
      },
    };
  };
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
  return [depthRule(limits.maxDepth), aliasRule(limits.maxAliases)];
}

export const parseOptions = (limits: Limits) => ({ maxTokens: limits.maxTokens });

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
