/**
 * The edge check of argument values, run on both transports after validation and before any
 * resolver: every string (NUL, lone surrogates, length), every `ID` (a UUID or a well-formed global id), every list
 * (length), every JSON value (depth, size, strings and keys) and every `first`/`last`, wherever it
 * sits — literal or variable, root field or nested, inside input objects. A refusal is
 * BAD_USER_INPUT naming the argument path and the limit, and never repeats the value.
 */
import {
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Limits } from '../config.js';
import { isIdValue } from '../graphql/node-id.js';
import { jsonProblem, textProblem } from '../domain/input-rules.js';

const PAGE_ARGUMENTS = new Set(['first', 'last']);

/**
 * The message names the whole path (`input.name`); `field` names it as the services do, inside
 * the argument's input object (`name`, `upstream.timeoutMs`), or the argument itself.
 */
const refuse = (path: string, problem: string) =>
  new GraphQLError(`${path} ${problem}`, {
    extensions: { code: 'BAD_USER_INPUT', field: path.includes('.') ? path.slice(path.indexOf('.') + 1) : path, http: { status: 400 } },
  });

/** The first problem of a coerced input value of `type`, or null. */
function problemOf(value: unknown, type: GraphQLInputType, path: string, limits: Limits): GraphQLError | null {
  if (value === null || value === undefined) return null;
  if (isNonNullType(type)) return problemOf(value, type.ofType, path, limits);
  if (isListType(type)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length > limits.maxListItems) return refuse(path, `may hold at most ${limits.maxListItems} items (got ${items.length})`);
    for (const item of items) {
      const problem = problemOf(item, type.ofType, path, limits);
      if (problem) return problem;
    }
    return null;
  }
  if (isInputObjectType(type)) {
    const fields = type.getFields();
    for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      const problem = field && problemOf(fieldValue, field.type, `${path}.${name}`, limits);
      if (problem) return problem;
    }
    return null;
  }
  if (isEnumType(type) || !isScalarType(type)) return null;
  if (typeof value === 'string') {
    if (value.length > limits.maxStringChars) return refuse(path, `must be at most ${limits.maxStringChars} characters`);
    const problem = textProblem(value);
    if (problem) return refuse(path, problem);
    if (type.name === 'ID' && !isIdValue(value)) return refuse(path, 'must be an id (a UUID or a global id)');
    return null;
  }
  if (typeof value === 'object') {
    const problem = jsonProblem(value, { maxDepth: limits.maxJsonDepth, maxChars: limits.bodyBytes });
    return problem ? refuse(path, problem) : null;
  }
  return null;
}

/** Throws BAD_USER_INPUT (a GraphQLError with status 400) for the first argument over a limit. */
export function checkArgumentValues(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  limits: Limits,
): void {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  // Variables that do not coerce are reported by the cost check / execution, with their own message.
  if (coerced.errors) return;
  const typeInfo = new TypeInfo(schema);
  let found: GraphQLError | null = null;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: (node) => (node === operation ? undefined : false),
      Field(node) {
        const field = typeInfo.getFieldDef();
        if (found || !field || !node.arguments?.length) return;
        let values: Record<string, unknown>;
        try {
          values = getArgumentValues(field, node, coerced.coerced);
        } catch {
          return; // a value that does not coerce: execution reports it
        }
        for (const arg of field.args) {
          const value = values[arg.name];
          if (PAGE_ARGUMENTS.has(arg.name) && getNamedType(arg.type).name === 'Int' && typeof value === 'number' && (value < 0 || value > limits.maxPageSize)) {
            found = refuse(arg.name, `must be between 0 and ${limits.maxPageSize}`);
          } else {
            found = problemOf(value, arg.type, arg.name, limits);
          }
          if (found) return;
        }
      },
    }),
  );
  if (found) throw found;
}
