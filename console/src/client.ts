/**
 * The one GraphQL client: Apollo Client over HTTP for queries and mutations and over graphql-ws
 * (same origin, same path) for subscriptions, both signed in with the session's token.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import { OperationTypeNode } from 'graphql';

declare const __POSSIBLE_TYPES__: Record<string, string[]>;

const TOKEN_KEY = 'stagecraft.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set(token: string | null) {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

export const authHeaders = (): Record<string, string> => {
  const token = session.token();
  return token ? { authorization: `Bearer ${token}` } : {};
};

let socket: Client | null = null;
let socketToken: string | null = null;

/** One socket per token: signing in again (or out) opens a fresh, re-authenticated one. */
function wsClient(): Client {
  const token = session.token();
  if (socket && socketToken === token) return socket;
  void socket?.dispose();
  socketToken = token;
  socket = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => (token ? { Authorization: `Bearer ${token}` } : {}),
    lazy: true,
    retryAttempts: 5,
  });
  return socket;
}

const wsLink = new ApolloLink((operation) => new GraphQLWsLink(wsClient()).request(operation));

const httpLink = new SetContextLink((prev) => ({ headers: { ...prev.headers, ...authHeaders() } })).concat(
  new HttpLink({ uri: '/graphql' }),
);

/**
 * A session that ended under the page (expired, revoked, password changed elsewhere): back to
 * the sign-in form rather than a page of UNAUTHENTICATED errors. Only with a token: a wrong
 * password at sign-in is UNAUTHENTICATED too.
 */
const signedOutLink = new ErrorLink(({ error }) => {
  const errors = (error as { errors?: readonly { extensions?: Record<string, unknown> }[] }).errors ?? [];
  if (session.token() && errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    session.set(null);
    location.reload();
  }
});

const isSubscription = ({ query }: ApolloLink.Operation) => {
  const definition = getMainDefinition(query);
  return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
};

export const client = new ApolloClient({
  link: signedOutLink.concat(ApolloLink.split(isSubscription, wsLink, httpLink)),
  cache: new InMemoryCache({
    possibleTypes: __POSSIBLE_TYPES__,
    typePolicies: {
      // Singletons and rows without an id of their own.
      ServerInfo: { keyFields: [] },
      MatrixRow: { keyFields: false },
      GroupService: { keyFields: false },
    },
  }),
  defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
});

/** Forgets everything the previous user could see. */
export async function resetSession(token: string | null): Promise<void> {
  session.set(token);
  await client.clearStore();
  void socket?.dispose();
  socket = null;
}
