/**
 * Walking the schema's root fields for access tests (privileges.test.ts, gateway-token-scope.test.ts):
 * each root field as a valid operation with dummy arguments, run over HTTP or graphql-ws, and the
 * answer classified as executed or refused. New fields are picked up without touching the tests.
 */
import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isRequiredArgument,
  isRequiredInputField,
  isScalarType,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { Client } from 'graphql-ws';
import type { GuardExtension } from '../../src/graphql/guard.js';

export type RootKind = 'Query' | 'Mutation' | 'Subscription';
export const ROOT_KINDS: readonly RootKind[] = ['Query', 'Mutation', 'Subscription'];

/** Sample variable values for scalars; a new custom scalar needs an entry here. */
const scalarSamples: Record<string, () => unknown> = {
  ID: () => randomUUID(), // never an existing row: updateUser/deleteUser/revokeApiToken touch nothing
  String: () => 'matrix-value',
  Int: () => 1,
  Float: () => 1.5,
  Boolean: () => false,
  DateTimeISO: () => new Date().toISOString(),
  JSONObject: () => ({}),
  _Any: () => ({ __typename: 'Promotion', id: randomUUID() }),
};

export interface RootField {
  kind: RootKind;
  name: string;
  /** `Query.me` */
  id: string;
  field: GraphQLField<unknown, unknown>;
}

function rootType(schema: GraphQLSchema, kind: RootKind): GraphQLObjectType | null | undefined {
  return kind === 'Query' ? schema.getQueryType() : kind === 'Mutation' ? schema.getMutationType() : schema.getSubscriptionType();
}

export function rootFields(schema: GraphQLSchema): RootField[] {
  return ROOT_KINDS.flatMap((kind) =>
    Object.values(rootType(schema, kind)?.getFields() ?? {}).map((field) => ({ kind, name: field.name, id: `${kind}.${field.name}`, field })),
  );
}

export function guardOf(field: GraphQLField<unknown, unknown>): GuardExtension | undefined {
  return (field.extensions as { guard?: GuardExtension } | undefined)?.guard;
}

/** A value for a required input: dummies all the way down, only required input fields filled in. */
function sampleValue(type: GraphQLInputType, where: string): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType, where);
  if (isListType(type)) return [sampleValue(type.ofType, `${where}[]`)];
  if (isEnumType(type)) return type.getValues()[0]!.name; // variables carry the enum value's name
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter(isRequiredInputField)
        .map((f) => [f.name, sampleValue(f.type, `${where}.${f.name}`)]),
    );
  }
  if (isScalarType(type)) {
    const sample = scalarSamples[type.name];
    if (!sample) throw new Error(`no sample value for scalar ${type.name} (needed at ${where}); add one to scalarSamples`);
    return sample();
  }
  throw new Error(`unexpected input type ${String(type)} at ${where}`);
}

/** A valid operation for the field: required arguments as variables, `__typename` or the scalar. */
export function buildOperation(root: RootField, overrides: Record<string, unknown> = {}): { query: string; variables: Record<string, unknown> } {
  const required = root.field.args.filter(isRequiredArgument);
  const variables = Object.fromEntries(
    required.map((arg) => [arg.name, arg.name in overrides ? overrides[arg.name] : sampleValue(arg.type, `${root.id}(${arg.name})`)]),
  );
  const varDefs = required.length ? `(${required.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const args = required.length ? `(${required.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const selection = isCompositeType(getNamedType(root.field.type)) ? ' { __typename }' : '';
  const query = `${root.kind.toLowerCase()} PrivilegeMatrix${varDefs} { ${root.name}${args}${selection} }`;
  return { query, variables };
}

/**
 * ALLOWED: the field executed (its result or its own error came back; NOT_FOUND, CONFLICT … are
 * fine with dummy arguments). UNAUTHENTICATED / FORBIDDEN: refused. Anything else (the operation
 * never ran: validation, variables, no answer) is reported as-is and never matches.
 */
export type Verdict = 'ALLOWED' | 'UNAUTHENTICATED' | 'FORBIDDEN';

export interface Outcome {
  verdict: Verdict | 'NOT_EXECUTED';
  detail: string;
}

export function classify(fieldName: string, data: unknown, errors: readonly GraphQLFormattedError[] | undefined): Outcome {
  const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'NO_CODE'));
  const detail = codes.join(', ');
  if (codes.includes('UNAUTHENTICATED')) return { verdict: 'UNAUTHENTICATED', detail };
  if (codes.includes('FORBIDDEN')) return { verdict: 'FORBIDDEN', detail };
  const executed =
    (data !== null && typeof data === 'object' && fieldName in data) || (errors ?? []).some((e) => e.path?.[0] === fieldName);
  if (executed) return { verdict: 'ALLOWED', detail };
  return { verdict: 'NOT_EXECUTED', detail: detail || 'no data, no errors' };
}

/** How long an authorised subscription must stay quiet (no error) after the connection is acknowledged. */
const SUBSCRIPTION_SETTLE_MS = 300;

/** Starts the operation on a graphql-ws client and classifies the first answer (or a quiet, live stream). */
export async function classifyOverWebSocket(client: Client, root: RootField, operation: { query: string; variables: Record<string, unknown> }): Promise<Outcome> {
  const { query, variables } = operation;
  try {
    return await new Promise<Outcome>((resolve) => {
      let settle: NodeJS.Timeout | undefined;
      const finish = (outcome: Outcome) => {
        clearTimeout(settle);
        clearTimeout(giveUp);
        resolve(outcome);
      };
      // Nothing at all (not even a connection) within 5 s is an answer too, and never a match.
      const giveUp = setTimeout(() => finish({ verdict: 'NOT_EXECUTED', detail: 'no connection' }), 5_000);
      // The quiet period starts once the server has accepted the connection (and its token).
      client.on('connected', () => {
        settle = setTimeout(() => finish({ verdict: 'ALLOWED', detail: 'listening' }), SUBSCRIPTION_SETTLE_MS);
      });
      client.subscribe(
        { query, variables },
        {
          next: (result) => finish(classify(root.name, result.data, result.errors as GraphQLFormattedError[] | undefined)),
          error: (err) => {
            if (Array.isArray(err)) return finish(classify(root.name, undefined, err as GraphQLFormattedError[]));
            const close = err as { code?: number; reason?: string };
            finish({ verdict: 'NOT_EXECUTED', detail: close?.code ? `socket closed ${close.code} ${close.reason ?? ''}`.trim() : String(err) });
          },
          complete: () => finish({ verdict: 'NOT_EXECUTED', detail: 'completed without a result' }),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}
