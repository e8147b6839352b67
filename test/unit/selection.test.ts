import { buildSchema, graphql, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectedFieldNames } from '../../src/graphql/selection.js';

const schema = buildSchema(`
  type Query { page: Page }
  type Page { edges: [Edge] total: Int }
  type Edge { node: Node cursor: String }
  interface Node { id: ID }
  type Api implements Node { id: ID versions: [Api] team: String }
`);

/** The names selectedFieldNames sees under page.edges.node for a query. */
async function selected(source: string): Promise<string[]> {
  let names: Set<string> | undefined;
  const result = await graphql({
    schema,
    source,
    rootValue: { page: (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => ((names = selectedFieldNames(info, ['edges', 'node'])), { edges: [] }) },
  });
  expect(result.errors).toBeUndefined();
  return [...names!].sort();
}

describe('selectedFieldNames', () => {
  it('sees fields through aliases, inline fragments and fragment spreads', async () => {
    expect(await selected('{ page { edges { node { id } } } }')).toEqual(['id']);
    expect(await selected('{ page { edges { n: node { id ... on Api { v: versions { id } } } } } }')).toEqual(['id', 'versions']);
    expect(await selected('{ page { ...P } } fragment P on Page { edges { node { ...N } } } fragment N on Node { ... on Api { team } }')).toEqual(['team']);
  });

  it('merges repeated paths and sees nothing where the path is not selected', async () => {
    expect(await selected('{ page { a: edges { node { id } } b: edges { node { ... on Api { team } } } } }')).toEqual(['id', 'team']);
    expect(await selected('{ page { total } }')).toEqual([]);
    expect(await selected('{ page { edges { cursor } } }')).toEqual([]);
  });
});
