// GraphiQL for Stagecraft, bundled by scripts/build-graphiql.mjs into dist/graphiql so the page
// needs nothing from the internet. Queries and mutations go over HTTP; subscriptions go over
// graphql-ws on the same path, authenticated with the Authorization header from the Headers tab.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';
import React from 'react';
import { createRoot } from 'react-dom/client';

const settings = JSON.parse(document.getElementById('stagecraft-settings').textContent);
const httpUrl = new URL(settings.path, window.location.href).toString();
const wsUrl = httpUrl.replace(/^http/, 'ws');
const httpFetcher = createGraphiQLFetcher({ url: httpUrl });

let wsClient;
let wsAuthorization;
/** One socket per Authorization value: changing the header re-authenticates. */
function socketFor(authorization) {
  if (wsClient && wsAuthorization === authorization) return wsClient;
  wsClient?.dispose();
  wsAuthorization = authorization;
  wsClient = createClient({ url: wsUrl, connectionParams: authorization ? { Authorization: authorization } : {}, retryAttempts: 3 });
  return wsClient;
}

/**
 * GraphiQL 3 keeps the previous operation name when a named operation is replaced by an anonymous
 * one (e.g. the default `query Me` by `{ me { … } }`) and sends it along, so the server would run
 * nothing ("Unknown operation named …") and the subscription check below would miss. Drop a name
 * the document does not define when the document has a single operation. Returns the parsed
 * document too (null when it does not parse: the server reports the syntax error).
 */
function normalize(params) {
  let document;
  try {
    document = parse(params.query);
  } catch {
    return { params, document: null };
  }
  if (!params.operationName) return { params, document };
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  if (operations.length !== 1 || operations[0].name?.value === params.operationName) return { params, document };
  return { params: { ...params, operationName: operations[0].name?.value ?? null }, document };
}

function headerValue(headers, name) {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

function fetcher(rawParams, options) {
  const { params, document } = normalize(rawParams);
  const isSubscription = document && getOperationAST(document, params.operationName)?.operation === 'subscription';
  if (!isSubscription) return httpFetcher(params, options);
  return socketFor(headerValue(options?.headers, 'authorization')).iterate(params);
}

const defaultQuery = `# Stagecraft — stage "${settings.stage}"
#
# 1. Sign in (then copy the token):
#      mutation { login(username: "admin", password: "…") { token } }
# 2. Open the Headers tab below and set:
#      { "Authorization": "Bearer <token>" }
# 3. Re-fetch the schema (the ↻ button on the left) for docs and autocompletion.
# 4. Ask away:
query Me {
  me {
    username
    role
    privileges
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery, shouldPersistHeaders: true, isHeadersEditorEnabled: true }),
);
