/**
 * What the README's "For portal developers" section promises, with the real clients: its Apollo
 * Client setup (examples/portal/apollo-client.ts, the same code as the README block) against a
 * real server — queries with fragments on the Asset interface, and a subscription over the ws
 * link; the GET rule urql users meet (CSRF prevention); and codegen.ts run by
 * @graphql-codegen/cli over schema/schema.graphql, its custom scalars typed.
 */
import { readFile } from 'node:fs/promises';
import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { generate } from '@graphql-codegen/cli';
import { Kind, visit, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import codegenConfig, { scalars } from '../../codegen.js';
import { createStagecraftClient } from '../../examples/portal/apollo-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');

let server: TestServer;
let token: string;
const clients: ApolloClient[] = [];

beforeAll(async () => {
  // Node 20 has no WebSocket global (browsers and Node 22 do); graphql-ws looks for one.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  server = await startTestServer({ env: { STAGECRAFT_SEED: 'true' } });
  token = await server.adminToken();
});

afterAll(async () => {
  for (const client of clients) client.stop();
  await server?.stop();
});

describe('the README’s Apollo Client setup', () => {
  it('is the code of examples/portal/apollo-client.ts, word for word', async () => {
    const readme = await read('README.md');
    const block = /```ts\n(import \{ ApolloClient[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(await read('examples/portal/apollo-client.ts'));
  });

  it('queries through fragments on the Asset interface (possibleTypes) and subscribes over the ws link', async () => {
    const all = gql(await read('examples/portal/operations.graphql'));
    /** One operation of the file with the fragments it spreads (Apollo Client takes one operation per document). */
    const operation = (name: string): DocumentNode => {
      const op = all.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name)!;
      const spread = new Set<string>();
      visit(op, { FragmentSpread: (node) => void spread.add(node.name.value) });
      return { ...all, definitions: [op, ...all.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION && spread.has(d.name.value))] };
    };
    const client = createStagecraftClient({ url: server.graphqlUrl, token: () => token });
    clients.push(client);
    const { data, error } = await client.query({ query: operation('AssetPage'), variables: { first: 10 } });
    expect(error).toBeUndefined();
    const node = (data as any).assets.edges.map((e: any) => e.node).find((n: any) => n.name === 'Swagger Petstore');
    // Fields of the `AssetCard` fragment (on Asset) and of `... on ApiAsset`, both kept by the cache.
    expect(node).toMatchObject({ __typename: 'ApiAsset', name: 'Swagger Petstore', type: 'API', updatedAt: expect.any(String), spec: expect.any(Object), version: expect.any(String) });

    // Without possibleTypes, the same answer loses the fragment's fields: what the file is for.
    const bare = new ApolloClient({ link: client.link, cache: new InMemoryCache() });
    clients.push(bare);
    const bareNode = ((await bare.query({ query: operation('AssetPage'), variables: { first: 10 }, errorPolicy: 'all' })).data as any)?.assets?.edges
      ?.map((e: any) => e.node)
      .find((n: any) => n.id === node.id);
    expect(bareNode?.updatedAt).toBeUndefined();

    await server.userWithRole('VIEWER'); // an audit event to receive
    const first = await new Promise<any>((resolve, reject) => {
      const subscription = client.subscribe({ query: operation('AuditFeed'), variables: { afterSequence: 0 } }).subscribe({
        next: (result) => {
          subscription.unsubscribe();
          result.error ? reject(result.error) : resolve(result.data);
        },
        error: reject,
      });
    });
    expect(first.auditLog).toMatchObject({ sequence: expect.any(String), type: expect.any(String), at: expect.any(String) });
  });
});

describe('GET requests (urql’s default for queries)', () => {
  const get = (headers: Record<string, string>) =>
    fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ me { username } }')}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  it('are refused by CSRF prevention unless they carry a preflight header; POST (preferGetMethod: false) always works', async () => {
    const plain = await get({});
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/CSRF|apollo-require-preflight/i);
    const withHeader = await get({ 'apollo-require-preflight': 'true' });
    expect(await withHeader.json()).toEqual({ data: { me: { username: 'admin' } } });
    expect((await server.gql('{ me { username } }', {}, token)).data).toEqual({ me: { username: 'admin' } });
  });
});

describe('codegen.ts', () => {
  it('generates types from schema/schema.graphql with the custom scalars mapped (never any or unknown)', async () => {
    const [output] = await generate({ ...codegenConfig, cwd: new URL('.', root).pathname, silent: true }, false);
    const code: string = output!.content;
    const scalarBlock = /export type Scalars = \{([\s\S]*?)\n\};/.exec(code)?.[1] ?? '';
    for (const [name, type] of Object.entries(scalars)) {
      expect(scalarBlock).toContain(`${name}: { input: ${type}; output: ${type}; }`);
    }
    expect(scalarBlock).not.toMatch(/: (any|unknown);/);
    expect(scalarBlock).not.toMatch(/input: (any|unknown)/);
    expect(code).toMatch(/export type AssetPageQuery = /);
    expect(code).toMatch(/updatedAt: string/);
    expect(code).toMatch(/spec: Record<string, unknown>/);
  });
});
