/**
 * schema/schema.graphql under graphql-eslint's schema-recommended and relay rules, with
 * descriptions required everywhere (every type, field, argument, input field and enum value, not
 * only the types and root fields the recommended set asks for). Any error fails the test, listed
 * as `line:column rule message`.
 */
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

const config: Linter.Config[] = [
  {
    files: ['schema/*.graphql'],
    languageOptions: { parser: graphqlPlugin.parser, parserOptions: { graphQLConfig: { schema: 'schema/schema.graphql' } } },
    plugins: { '@graphql-eslint': graphqlPlugin as never },
    rules: {
      ...graphqlPlugin.configs['flat/schema-recommended'].rules,
      ...graphqlPlugin.configs['flat/schema-relay'].rules,
      '@graphql-eslint/require-description': [
        'error',
        { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, DirectiveDefinition: true },
      ],
      // Plain lists are fine where nobody pages (tags, an asset's dependents, a plan's items):
      // connections are for lists that grow without bound.
      '@graphql-eslint/relay-edge-types': ['error', { withEdgeSuffix: true, shouldImplementNode: true, listTypeCanWrapOnlyEdgeType: false }],
      // Value objects (pages, edges, events, results, plans, reports …) have no identity of their own.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        {
          acceptedIdNames: ['id'],
          acceptedIdTypes: ['ID'],
          exceptions: {
            types: ['PageInfo', 'AssetDependencies', 'RateLimit', 'Route', 'RouteInfo', 'GroupService', 'AuthPayload', 'ServerInfo', 'GatewayConfigUpdate', 'PromotionPlan'],
            suffixes: ['Connection', 'Edge', 'Event', 'Result', 'Report', 'Summary', 'Entry', 'Item', 'Row', 'Cell', 'Plan'],
          },
        },
      ],
      // `User.username`, `Rollback.rollbackTime`, `Alias.aliasKind`, `teamAsset` are names of the
      // published contract (DESIGN §3, webMethods' terms); renaming them would break clients.
      '@graphql-eslint/no-typename-prefix': 'off',
    },
  },
];

/**
 * Findings the Relay work (Node interface, `last`/`before`, full PageInfo — issue 13, the
 * "relay" branch) removes. Listed by rule and message, so the test fails both on a new finding
 * and once one of these is gone: delete the entries as they go, then this list.
 */
const AWAITING_RELAY = [
  ...['AssetEdge', 'PromotionEdge', 'RollbackEdge'].map(() => "relay-edge-types Edge type's field `node` must implement `Node` interface."),
  ...['assets', 'assets', 'promotions', 'promotions', 'rollbacks', 'rollbacks', 'importReports'].flatMap((field) => [
    `relay-arguments Field \`${field}\` must contain an argument \`last\`, that return Int.`,
    `relay-arguments Field \`${field}\` must contain an argument \`before\`, that return String or Scalar.`,
  ]),
  'relay-page-info `PageInfo` must contain a field `hasPreviousPage`, that return non-null Boolean.',
  'relay-page-info `PageInfo` must contain a field `startCursor`, that return either String or Scalar, which can be null if there are no results.',
].sort();

describe('schema/schema.graphql lint (graphql-eslint schema-recommended + relay)', () => {
  it('has no errors but those the Relay work removes', async () => {
    const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });
    const [result] = await eslint.lintFiles(['schema/schema.graphql']);
    const findings = result!.messages.map((m) => ({ at: `${m.line}:${m.column}`, what: `${(m.ruleId ?? 'parse').replace('@graphql-eslint/', '')} ${m.message}` }));
    const unexpected = findings.filter((f) => !AWAITING_RELAY.includes(f.what)).map((f) => `${f.at} ${f.what}`);
    expect(unexpected).toEqual([]);
    expect(findings.map((f) => f.what).sort()).toEqual(AWAITING_RELAY);
  }, 120_000);
});
