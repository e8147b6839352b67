import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
// `stagecraft schema --possible-types > possible-types.json` (or copy schema/possible-types.json)
import possibleTypes from './possible-types.json' with { type: 'json' };

/** An Apollo Client for a Stagecraft server: queries over HTTP, subscriptions over graphql-ws. */
export function createStagecraftClient(options: { url: string; token: () => string | null }): ApolloClient {
  const authorization = () => {
    const token = options.token();
    return token ? `Bearer ${token}` : undefined;
  };
  // A JSON POST: CSRF prevention lets it through (GET needs the apollo-require-preflight header).
  const http = new SetContextLink(({ headers }) => ({ headers: { ...headers, authorization: authorization() } })).concat(
    new HttpLink({ uri: options.url }),
  );
  // The token travels in connection_init; the server refuses a bad one with close code 4403.
  const ws = new GraphQLWsLink(createClient({ url: options.url.replace(/^http/, 'ws'), connectionParams: () => ({ Authorization: authorization() }) }));
  return new ApolloClient({
    link: ApolloLink.split(({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION, ws, http),
    // possibleTypes: without it, fields selected through `... on Asset` fragments are dropped.
    cache: new InMemoryCache({ possibleTypes }),
  });
}
