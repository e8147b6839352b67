/**
 * GraphQL Code Generator for clients of the Stagecraft API (`npx graphql-codegen`): TypeScript
 * types for your operations, from the committed schema/schema.graphql — no running server and no
 * token needed (signed-out introspection is refused by design). Copy this file and the schema
 * into your portal, and point `documents` at your operations.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Stagecraft's custom scalars as they arrive in JSON (left unmapped, codegen types them `any`). */
export const scalars = {
  DateTimeISO: 'string',
  JSONObject: 'Record<string, unknown>',
};

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['examples/portal/**/*.graphql'],
  generates: {
    'examples/portal/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations'],
      // strictScalars: a scalar added to the API without a mapping here fails the build.
      config: { scalars, strictScalars: true, enumsAsTypes: true, useTypeImports: true },
    },
  },
};

export default config;
