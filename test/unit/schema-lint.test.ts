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
            types: ['PageInfo', 'AssetDependencies', 'RateLimit', 'Route', 'RouteInfo', 'GroupService', 'AuthPayload', 'ServerInfo', 'GatewayConfigUpdate', 'PromotionPlan', 'StageStatus'],
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

describe('schema/schema.graphql lint (graphql-eslint schema-recommended + relay)', () => {
  it('has no errors', async () => {
    const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: config });
    const [result] = await eslint.lintFiles(['schema/schema.graphql']);
    const findings = result!.messages.map((m) => ({ at: `${m.line}:${m.column}`, what: `${(m.ruleId ?? 'parse').replace('@graphql-eslint/', '')} ${m.message}` }));
    expect(findings.map((f) => `${f.at} ${f.what}`)).toEqual([]);
  }, 120_000);
});
