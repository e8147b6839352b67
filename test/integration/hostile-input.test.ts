/**
 * The hostile-input suite. It introspects the running server's schema and, for every root field
 * of Query, Mutation and Subscription and each of its arguments, sends values generated from the
 * argument's type that a hostile or careless client would send: ids of the wrong shape, NUL bytes
 * and lone surrogates, huge strings, negative and out-of-range numbers, deeply nested JSON, huge
 * lists, wrong enum values — as variables and as literals, over HTTP and over graphql-ws, as a
 * SUPER_ADMIN and anonymously. Every answer must come within a bounded time, never be an
 * INTERNAL_SERVER_ERROR (or HTTP 5xx), never echo a huge value back, and the server must answer a
 * normal query afterwards. New fields and arguments are covered without touching this file.
 */
import { randomUUID } from 'node:crypto';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isRequiredInputField,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';

/** An answer slower than this is a finding (the machine is shared: generous, but bounded). */
const ANSWER_WITHIN_MS = 2_000;
/** A subscription that is still quiet after this long has started listening: an answer too. */
const SUBSCRIPTION_QUIET_MS = 400;

type RootKind = 'Query' | 'Mutation' | 'Subscription';
type Caller = 'SUPER_ADMIN' | 'anonymous';

interface Case {
  field: string;
  kind: RootKind;
  argument: string;
  label: string;
  query: string;
  variables: Record<string, unknown>;
  /** A long run of the value that must never come back in the answer. */
  mustNotEcho?: string;
}

interface Finding {
  case: string;
  transport: 'http' | 'ws';
  caller: Caller;
  problem: string;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

const HUGE = 'H0st1le'.repeat(45_000); // 315,000 characters

/** JSON text spliced into a request as is: values too deep for JSON.stringify's recursion. */
class RawJson {
  constructor(readonly text: string) {}
}
const deepJson = (levels: number) => new RawJson(`${'{"nested":'.repeat(levels)}{"leaf":true}${'}'.repeat(levels)}`);

/** JSON.stringify, with RawJson values spliced in. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v));
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);
}

/** A harmless valid value of a type (required input fields only), to fill the other arguments. */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter(isRequiredInputField).map((f) => [f.name, sample(f.type)]));
  }
  switch (getNamedType(type).name) {
    case 'ID':
      return randomUUID();
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return false;
    case 'DateTimeISO':
      return new Date().toISOString();
    case 'JSONObject':
      return {};
    default:
      return 'hostile-sample';
  }
}

interface BadValue {
  label: string;
  value: unknown;
  mustNotEcho?: string;
}

/** Bad values of a scalar, by its name. */
function badScalars(name: string): BadValue[] {
  const text: BadValue[] = [
    { label: 'NUL', value: 'a\u0000b' },
    { label: 'lone surrogate', value: 'x\ud800y' },
    { label: '315 KB string', value: HUGE, mustNotEcho: HUGE.slice(0, 200) },
  ];
  switch (name) {
    case 'ID':
      return [
        ...text,
        { label: 'not a UUID', value: 'not-a-uuid' },
        { label: 'almost a UUID', value: '00000000-0000-0000-0000-00000000000g' },
        { label: 'empty', value: '' },
        { label: 'number', value: 12345 },
      ];
    case 'String':
      return [...text, { label: 'empty', value: '' }];
    case 'Int':
      return [
        { label: 'negative', value: -5 },
        { label: 'min int', value: -2147483648 },
        { label: 'max int', value: 2147483647 },
        { label: 'beyond 32 bits', value: 2 ** 40 },
        { label: 'string', value: '12' },
      ];
    case 'Float':
      return [
        { label: 'negative', value: -1e308 },
        { label: 'huge', value: 1e308 },
      ];
    case 'Boolean':
      return [{ label: 'string', value: 'yes' }];
    case 'DateTimeISO':
      return [{ label: 'not a date', value: 'yesterday' }, ...text.slice(0, 1)];
    case 'JSONObject':
      return [
        { label: '40 levels', value: deepJson(40) },
        { label: '1,000 levels', value: deepJson(1_000) },
        { label: '5,000 levels', value: deepJson(5_000) },
        { label: 'NUL in a key', value: { 'k\u0000': 1 } },
        { label: 'NUL in a value', value: { k: 'v\u0000' } },
        { label: 'lone surrogate in a key', value: { '\udc00': 1 } },
        { label: 'array', value: [1, 2] },
        { label: '600 KB value', value: { big: 'x'.repeat(600_000) }, mustNotEcho: 'x'.repeat(200) },
      ];
    default:
      return text;
  }
}

/** Bad values of any input type: its scalar's, a wrong enum, huge lists, and each input field gone bad. */
function badValues(type: GraphQLInputType, depth = 0): BadValue[] {
  if (isNonNullType(type)) return [{ label: 'null', value: null }, ...badValues(type.ofType, depth)];
  if (isListType(type)) {
    const item = sample(type.ofType);
    return [
      { label: '6,000 items', value: Array.from({ length: 6_000 }, () => sample(type.ofType)) },
      { label: '20,000 copies', value: Array.from({ length: 20_000 }, () => item) },
      ...badValues(type.ofType, depth).map((b) => ({ ...b, label: `[${b.label}]`, value: [b.value] })),
    ];
  }
  if (isEnumType(type)) return [{ label: 'unknown enum value', value: 'NO_SUCH_VALUE' }, { label: 'NUL enum', value: 'A\u0000' }];
  if (isInputObjectType(type)) {
    const base = sample(type) as Record<string, unknown>;
    const out: BadValue[] = [{ label: 'unknown field', value: { ...base, noSuchField: 1 } }];
    if (depth > 1) return out;
    for (const field of Object.values(type.getFields())) {
      for (const bad of badValues(field.type, depth + 1)) out.push({ ...bad, label: `.${field.name} ${bad.label}`, value: { ...base, [field.name]: bad.value } });
    }
    return out;
  }
  if (isScalarType(type)) return badScalars(type.name);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const selectionFor = (field: GraphQLField<unknown, unknown>) => (isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '');

function operation(kind: RootKind, field: GraphQLField<unknown, unknown>, args: readonly GraphQLArgument[]): string {
  const defs = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return `${kind.toLowerCase()} Hostile${defs} { ${field.name}${call}${selectionFor(field)} }`;
}

/** GraphQL string literal of a JS string (JSON escapes are valid GraphQL string escapes). */
const literal = (value: string) => JSON.stringify(value);

function casesFor(schema: GraphQLSchema): Case[] {
  const cases: Case[] = [];
  const roots: [RootKind, ReturnType<GraphQLSchema['getQueryType']>][] = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ];
  for (const [kind, type] of roots) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      for (const arg of field.args) {
        const others = field.args.filter((a) => a !== arg && isNonNullType(a.type));
        const baseVariables = Object.fromEntries(others.map((a) => [a.name, sample(a.type)]));
        const query = operation(kind, field, [...others, arg]);
        for (const bad of badValues(arg.type)) {
          cases.push({
            field: `${kind}.${field.name}`,
            kind,
            argument: arg.name,
            label: bad.label,
            query,
            variables: { ...baseVariables, [arg.name]: bad.value },
            mustNotEcho: bad.mustNotEcho,
          });
        }
        // The same bad strings written into the document (literals are checked like variables).
        const named = getNamedType(arg.type).name;
        if (isScalarType(getNamedType(arg.type)) && (named === 'String' || named === 'ID')) {
          const defs = others.length ? `(${others.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
          const passed = others.map((a) => `${a.name}: $${a.name}`);
          for (const [label, value] of [['literal NUL', 'a\u0000b'], ['literal lone surrogate', 'x\udbff']] as const) {
            const argsText = [...passed, `${arg.name}: ${isListType(isNonNullType(arg.type) ? arg.type.ofType : arg.type) ? `[${literal(value)}]` : literal(value)}`].join(', ');
            cases.push({
              field: `${kind}.${field.name}`,
              kind,
              argument: arg.name,
              label,
              query: `${kind.toLowerCase()} HostileLiteral${defs} { ${field.name}(${argsText})${selectionFor(field)} }`,
              variables: baseVariables,
            });
          }
        }
      }
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Sending and judging
// ---------------------------------------------------------------------------------------------

interface Answer {
  status?: number;
  text: string;
  errors: { message?: string; extensions?: Record<string, unknown> }[];
  ms: number;
  note?: string;
}

function judge(c: Case, answer: Answer): string | null {
  if (answer.note === 'no answer') return `no answer within ${ANSWER_WITHIN_MS} ms`;
  if (answer.ms > ANSWER_WITHIN_MS) return `answered after ${Math.round(answer.ms)} ms`;
  if (answer.status !== undefined && answer.status >= 500) return `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`;
  const internal = answer.errors.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.code === undefined);
  if (internal) return `${String(internal.extensions?.code ?? 'no code')}: ${String(internal.message).slice(0, 200)}`;
  if (c.mustNotEcho && answer.text.includes(c.mustNotEcho)) return 'the answer echoes the huge value';
  return null;
}

async function viaHttp(server: TestServer, c: Case, token: string | undefined): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: toJson({ query: c.query, variables: c.variables }),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS * 3),
  }).catch((err: unknown) => err as Error);
  if (res instanceof Error) return { text: String(res), errors: [], ms: performance.now() - started, note: 'no answer' };
  const text = await res.text();
  const ms = performance.now() - started;
  let errors: Answer['errors'] = [];
  try {
    errors = ((JSON.parse(text) as { errors?: Answer['errors'] }).errors ?? []) as Answer['errors'];
  } catch {
    return { status: res.status, text, errors: [{ message: `not JSON: ${text.slice(0, 100)}` }], ms };
  }
  return { status: res.status, text, errors, ms };
}

/**
 * A bare graphql-transport-ws client (one socket, reused; reopened when the server closes it):
 * it sends the message text as built, so values too deep for JSON.stringify travel too.
 */
class RawSocket {
  private socket: WebSocket | undefined;
  private nextId = 0;
  private readonly waiting = new Map<string, (message: { type: string; payload?: unknown } | { closed: number }) => void>();

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  private async open(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket;
    const socket = new WebSocket(this.url, 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: this.token ? { Authorization: `Bearer ${this.token}` } : {} })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
        if (message.type === 'connection_ack') return resolve();
        if (message.type === 'ping') return socket.send(JSON.stringify({ type: 'pong' }));
        if (message.id) this.waiting.get(message.id)?.(message);
      });
      socket.once('close', (code) => {
        for (const done of this.waiting.values()) done({ closed: code });
        reject(new Error(`socket closed ${code} before connection_ack`));
      });
      socket.once('error', reject);
    });
    this.socket = socket;
    return socket;
  }

  /** The first message about the operation (next, error or complete), a close, or nothing in time. */
  async send(c: Case): Promise<Answer> {
    const socket = await this.open();
    const id = String(++this.nextId);
    const started = performance.now();
    const answer = await new Promise<Answer>((resolve) => {
      const finish = (a: Omit<Answer, 'ms'>) => {
        clearTimeout(giveUp);
        clearTimeout(quiet);
        this.waiting.delete(id);
        resolve({ ...a, ms: performance.now() - started });
      };
      const giveUp = setTimeout(() => finish({ text: '', errors: [], note: 'no answer' }), ANSWER_WITHIN_MS);
      const quiet = c.kind === 'Subscription' ? setTimeout(() => finish({ text: '', errors: [], note: 'listening' }), SUBSCRIPTION_QUIET_MS) : undefined;
      this.waiting.set(id, (message) => {
        if ('closed' in message) {
          // The socket refusing an oversize message (1009) is an answer; anything else is not.
          return finish(message.closed === 1009 ? { text: '', errors: [], note: 'closed 1009' } : { text: '', errors: [{ message: `socket closed ${message.closed}` }] });
        }
        const text = JSON.stringify(message);
        if (message.type === 'next') return finish({ text, errors: ((message.payload as { errors?: Answer['errors'] }).errors ?? []) as Answer['errors'] });
        if (message.type === 'error') return finish({ text, errors: message.payload as Answer['errors'] });
        finish({ text, errors: [], note: 'complete' });
      });
      socket.send(`{"id":"${id}","type":"subscribe","payload":${toJson({ query: c.query, variables: c.variables })}}`);
    });
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, type: 'complete' }));
    return answer;
  }

  close(): void {
    this.socket?.close();
  }
}

let server: TestServer;
let admin: string;
let cases: Case[];

beforeAll(async () => {
  server = await startTestServer();
  admin = await server.adminToken();
  const introspection = await server.gql<IntrospectionQuery>(getIntrospectionQuery(), {}, admin);
  if (!introspection.data) throw new Error(`introspection failed: ${JSON.stringify(introspection.errors)}`);
  cases = casesFor(buildClientSchema(introspection.data));
});
afterAll(() => server?.stop());

const render = (findings: Finding[]) =>
  `\n${findings.length} findings:\n${findings.map((f) => `  ${f.transport} ${f.caller} ${f.case}: ${f.problem}`).join('\n')}\n`;

const nameOf = (c: Case) => `${c.field}(${c.argument}: ${c.label})`;

/** A normal query still answers, and quickly. */
async function stillServing(): Promise<void> {
  const started = performance.now();
  const res = await server.gql<{ me: { username: string } }>('{ me { username } }', {}, admin);
  expect(res.data?.me.username).toBe('admin');
  expect(performance.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
}

describe('hostile input, generated from the schema', () => {
  it('covers every argument of every root field', () => {
    const covered = new Set(cases.map((c) => `${c.field}.${c.argument}`));
    expect(covered.size).toBeGreaterThan(50);
    expect(cases.length).toBeGreaterThan(500);
  });

  it('over HTTP, as a SUPER_ADMIN and anonymously: no internal error, a bounded answer, no echo', async () => {
    const findings: Finding[] = [];
    for (const c of cases) {
      if (c.kind === 'Subscription') continue; // over HTTP these are refused as a whole (see below)
      for (const caller of ['SUPER_ADMIN', 'anonymous'] as const) {
        const problem = judge(c, await viaHttp(server, c, caller === 'SUPER_ADMIN' ? admin : undefined));
        if (problem) findings.push({ case: nameOf(c), transport: 'http', caller, problem });
      }
    }
    expect(findings, render(findings)).toEqual([]);
    await stillServing();
  });

  it('subscriptions sent over HTTP are refused with 400 and a GraphQL error', async () => {
    const findings: Finding[] = [];
    for (const c of cases.filter((x) => x.kind === 'Subscription')) {
      const answer = await viaHttp(server, c, admin);
      const problem = judge(c, answer) ?? (answer.status === 400 || answer.status === 405 ? null : `HTTP ${answer.status}`);
      if (problem) findings.push({ case: nameOf(c), transport: 'http', caller: 'SUPER_ADMIN', problem });
    }
    expect(findings, render(findings)).toEqual([]);
  });

  it('over graphql-ws, as a SUPER_ADMIN: no internal error, a bounded answer, no echo', async () => {
    const findings: Finding[] = [];
    // Every case once over a socket is the slow part; the same checks run on both transports,
    // so every field and argument is covered here with each kind of bad value once.
    const seen = new Set<string>();
    const socket = new RawSocket(server.wsUrl, admin);
    for (const c of cases) {
      const key = `${c.field}.${c.argument}.${c.label.replace(/^\.\w+ /, '.')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = judge(c, await socket.send(c));
      if (problem) findings.push({ case: nameOf(c), transport: 'ws', caller: 'SUPER_ADMIN', problem });
    }
    socket.close();
    expect(seen.size).toBeGreaterThan(200);
    expect(findings, render(findings)).toEqual([]);
    await stillServing();
  });
});
