/**
 * One http.Server carrying everything: Apollo Server at /graphql, graphql-ws on the same path,
 * GraphiQL for browsers, health probes, and the REST endpoints. Both GraphQL transports share
 * the authentication, the limits and the error formatting.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler } from 'express';
import {
  createSourceEventStream,
  getOperationAST,
  GraphQLError,
  specifiedRules,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import http from 'node:http';
import type { Context as WsConnection, SubscribePayload } from 'graphql-ws';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { AppError, httpStatusFor } from '../errors.js';
import { listenForCredentialChanges } from '../services/credential-changes.js';
import type { Context } from '../graphql/context.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { createErrorFormatter, DATABASE_UNAVAILABLE, databaseOutagePlugin } from '../graphql/format-error.js';
import { createLoaders } from '../graphql/loaders.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';
import { refuseLockedOutAnonymous } from './sign-in-lockout.js';
import { bearerToken, buildContext, contextFor, tokenFromConnectionParams } from './auth-context.js';
import { SocketSessions, type SocketExtra } from './socket-sessions.js';
import { serveGraphqlWs } from './ws-transport.js';
import { EventFollower } from '../events/stream-feed.js';
import { executeEach, FrameDelivery, viewKey } from './shared-frames.js';
import { graphiqlRouter } from './graphiql/page.js';
import { consoleRouter } from './console.js';
import { archiveRouter } from './archive-routes.js';
import { corsMiddleware, upgradeOriginAllowed, type CorsPolicy } from './cors.js';
import { healthRouter } from './health.js';
import { checkOperation, documentNestingError, limitRules, parseOptions } from './limits.js';
import { localGateway } from './compiled-executor.js';
import { OperationVerdicts, ValidatedDocuments } from './operation-cache.js';
import { observeOperations } from '../observability/graphql-plugin.js';
import { serveMetrics } from '../observability/metrics-endpoint.js';
import type { Observer } from '../observability/observer.js';
import { WsOperations } from '../observability/ws-operations.js';
import { noteRequestUser, observeRequests, reenterRequestContext } from '../observability/request-context.js';

export interface HttpServerHandle {
  server: http.Server;
  /** The open graphql-ws sockets (caps, revocation). */
  sockets: SocketSessions;
  /** Stops taking requests, lets open ones finish, closes every socket. */
  drain(): Promise<void>;
}

/**
 * `databaseUrl`: where to LISTEN for credential changes announced by any replica.
 * `observer`: this instance's metrics and tracer (access log, /metrics, spans).
 */
export async function createHttpServer(config: Config, schema: GraphQLSchema, services: Services, log: Logger, databaseUrl: string, observer: Observer): Promise<HttpServerHandle> {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every res.send body for a weak ETag: a SHA-1 over each GraphQL answer that no
  // client revalidates (POSTs are not cached). Static files keep their own (serve-static).
  app.set('etag', false);
  app.use(observeRequests(observer, log));
  const server = http.createServer(app);
  const formatError = createErrorFormatter(log, config.development);
  const rules = limitRules(config.limits);
  // Per-document memory of parsing, validation, argument and cost checks (operation-cache.ts).
  const verdicts = new OperationVerdicts();
  const wsDocuments = new ValidatedDocuments(schema, [...specifiedRules, ...rules], parseOptions(config.limits));

  // --- graphql-ws (graphql-transport-ws) on /graphql ---
  const cors: CorsPolicy = { origins: config.corsOrigins, credentials: config.corsCredentials };
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload: config.limits.bodyBytes,
    // Browsers apply no CORS to WebSockets: a page of an origin not on the list is refused here.
    verifyClient: ({ req }, done) => (upgradeOriginAllowed(cors, req) ? done(true) : done(false, 403, 'Origin not allowed')),
  });
  const sockets = new SocketSessions(services, log, config.auth);
  observer.metrics.countSocketsWith(() => ({ sockets: sockets.size, subscriptions: sockets.subscriptionCount }));
  // Any replica's credential change (revocation, logout, role change …) re-checks our sockets.
  const credentialChanges = listenForCredentialChanges(databaseUrl, log, () => void sockets.recheckAll());
  await credentialChanges.start();
  // Subscriptions are started in onSubscribe (see there) and handed over to graphql-ws here.
  const started = new WeakMap<ExecutionArgs, AsyncGenerator<ExecutionResult> | ExecutionResult>();
  const wsOperations = new WsOperations(observer);
  const observeLag = (seconds: number) => observer.metrics.observeFanoutLag(seconds);
  const wsServer = serveGraphqlWs<Record<string, unknown>, SocketExtra>(
    {
      schema,
      connectionInitWaitTimeout: config.limits.wsInitTimeoutMs,
      subscribe: (args) => {
        const result = started.get(args);
        if (!result) return subscribe(args);
        started.delete(args);
        return result;
      },
      // A token that does not check out closes the socket 4403; one socket too many, 4429.
      onConnect: (ctx) => sockets.connect(ctx, tokenFromConnectionParams(ctx.connectionParams)),
      onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const begun = performance.now();
        const answer = await startOperation(ctx, id, payload);
        wsOperations.subscribed(ctx.extra, id, begun, payload.operationName, answer);
        return answer;
      },
      onComplete: (ctx, id) => {
        wsOperations.completed(ctx.extra, id);
        sockets.releaseSubscription(ctx.extra.session, id);
      },
      onClose: (ctx) => sockets.disconnect(ctx.extra.session),
      onNext: (ctx, id, _payload, _args, result) => {
        const formatted = result.errors ? { ...result, errors: result.errors.map((e) => formatError(e, e)) } : undefined;
        wsOperations.result(ctx.extra, id, formatted?.errors);
        return formatted;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e, e)),
    },
    wss,
    log,
    (socket, request) => ({ socket, request }),
    // Above a subscription's own bound, so a slow subscriber is first told so (shared-frames.ts).
    2 * config.limits.subscriberBufferBytes,
  );

  /** graphql-ws's `subscribe` message: the arguments to run it with, or why it is refused. */
  async function startOperation(ctx: WsConnection<Record<string, unknown>, SocketExtra>, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const session = ctx.extra.session!;
    const tooDeep = documentNestingError(payload.query);
    if (tooDeep) return [tooDeep];
    let validated;
    try {
      validated = wsDocuments.get(payload.query);
    } catch (err) {
      return [withCode(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
    }
    const { document, errors } = validated;
    if (errors.length) return errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
    // Rights are checked where they are used: each operation re-runs the credential check, so
    // a token revoked a moment ago (its notification still on the way) runs nothing. A
    // refusal closes the socket 4403, as the notification would have.
    const principal = await sockets.principalForOperation(session);
    if (!principal) return [new GraphQLError('credential revoked or expired', { extensions: { code: 'UNAUTHENTICATED' } })];
    const context: Context = contextFor(services, log, session.token, principal, session.clientAddress);
    try {
      checkOperation({
        schema,
        document,
        variables: payload.variables ?? undefined,
        operationName: payload.operationName,
        signedIn: context.user !== null,
        development: config.development,
        limits: config.limits,
      }, verdicts);
    } catch (err) {
      return [err as GraphQLError];
    }
    const args: ExecutionArgs = { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue: context };
    // A subscription that cannot start (not signed in, missing privilege, bad variables …) gets
    // an `error` message, as graphql-transport-ws prescribes for a refused operation. Left to
    // graphql-ws, graphql-js's refusal would go out as `next` + `complete`, like a stream that ran.
    if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
      try {
        sockets.reserveSubscription(session, id);
      } catch (err) {
        return [new GraphQLError((err as AppError).message, { originalError: err as AppError })];
      }
      const source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in source)) {
        sockets.releaseSubscription(session, id);
        return source.errors ?? [new GraphQLError('the subscription could not start')];
      }
      // Event-log streams go out as frames built once per event and view (shared-frames.ts);
      // anything else is executed per subscriber, as graphql-js would.
      started.set(
        args,
        source instanceof EventFollower
          ? new FrameDelivery(source, {
              id,
              socket: ctx.extra.socket,
              args,
              viewKey: viewKey(payload.query, payload.operationName, payload.variables, context),
              formatError,
              maxBufferedBytes: config.limits.subscriberBufferBytes,
              maxQueued: config.limits.subscriberQueue,
              observeLag,
            })
          : executeEach(source, args),
      );
    }
    return args;
  }

  // --- Apollo Server over HTTP ---
  const limitsPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, contextValue }) {
          checkOperation({
            schema,
            document,
            variables: request.variables,
            operationName: request.operationName,
            signedIn: contextValue.user !== null,
            development: config.development,
            limits: config.limits,
            overHttp: true,
          }, verdicts);
        },
      };
    },
  };
  const apollo = new ApolloServer<Context>({
    // Our own schema, executed by graphql-jit once a document repeats (compiled-executor.ts).
    gateway: localGateway(schema),
    introspection: true, // gated per request by checkOperation
    csrfPrevention: true,
    stopOnTerminationSignals: false, // the CLI owns signals and stops everything in order
    includeStacktraceInErrorResponses: config.development,
    hideSchemaDetailsFromClientErrors: !config.development,
    validationRules: rules,
    parseOptions: parseOptions(config.limits),
    formatError,
    logger: log,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: 10_000 }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              // Sockets first: the HTTP drain may cut their connections once its own wait is over.
              await wsServer.dispose();
              await credentialChanges.stop();
            },
          };
        },
      },
      ApolloServerPluginLandingPageDisabled(),
      // The default cache-control plugin wraps every field resolver (willResolveField) to compute
      // cache hints nobody reads here: a promise-chain per field in every query.
      ApolloServerPluginCacheControlDisabled(),
      // A subgraph schema would switch on federated tracing (ftv1): per-field timings and error
      // texts for any caller that asks for them, and a hook on every field. Not served.
      ApolloServerPluginInlineTraceDisabled(),
      limitsPlugin,
      databaseOutagePlugin,
      observeOperations<Context>(observer),
    ],
  });
  await apollo.start();

  app.get('/metrics', (req, res, next) => {
    serveMetrics(req, res, config.metricsToken, () => observer.metrics.render(), observer.metrics.contentType).catch(next);
  });
  app.use(healthRouter(services));
  // Before the routers: a preflight (OPTIONS) must be answered here, not by Express's default.
  app.use(['/graphql', '/archive'], corsMiddleware(cors));
  app.use(archiveRouter(services, log, config.limits));
  if (config.graphiql) app.use(graphiqlRouter(config.stage));
  app.use(consoleRouter());
  app.use(
    '/graphql',
    refuseLockedOutAnonymous(services),
    express.json({ limit: config.limits.bodyBytes }),
    refuseDeeplyNestedDocuments,
    reenterRequestContext,
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        try {
          const context = await buildContext(services, log, bearerToken(req.headers.authorization), req.socket.remoteAddress ?? null);
          noteRequestUser(req, context.user?.username);
          return context;
        } catch (err) {
          if (err instanceof AppError) {
            throw new GraphQLError(err.message, { extensions: { code: err.code, ...err.details, http: { status: httpStatusFor[err.code] } } });
          }
          if (isDatabaseUnavailable(err)) throw new GraphQLError(DATABASE_UNAVAILABLE, { extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
          const errorId = crypto.randomUUID();
          log.error({ errorId, err }, 'unexpected error while authenticating');
          throw new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR', errorId, http: { status: 500 } } });
        }
      },
    }),
  );
  app.use(errorHandler(log));

  return {
    server,
    sockets,
    drain: () => apollo.stop(),
  };
}

/** Before Apollo parses (recursively) a document that would overflow the parser's stack. */
const refuseDeeplyNestedDocuments: express.RequestHandler = (req, res, next) => {
  const body: unknown = req.body;
  const query = req.method === 'GET' ? req.query.query : body && typeof body === 'object' && 'query' in body ? body.query : undefined;
  const error = documentNestingError(query);
  if (!error) return next();
  res.status(400).json({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
};

/** graphql-js leaves parse and validation errors without a code; Apollo adds these on HTTP. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { code } });
}

/**
 * Errors outside GraphQL execution (body too large, malformed JSON …) as JSON with a code, never
 * HTML: GraphQL's `{ errors: [...] }` shape on /graphql, `{ error: {...} }` on REST endpoints.
 */
function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status: number;
    let body: { code: string; message: string; [k: string]: unknown };
    if (err instanceof AppError) {
      status = httpStatusFor[err.code];
      body = { code: err.code, message: err.message, ...err.details };
    } else if (isDatabaseUnavailable(err)) {
      status = 503;
      body = { code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE };
    } else if (err?.status === 413) {
      status = 413;
      body = { code: 'PAYLOAD_TOO_LARGE', message: typeof err.limit === 'number' ? `request body exceeds the limit of ${err.limit} bytes` : err.expose ? err.message : 'request body exceeds the size limit' };
    } else if (err?.status === 408) {
      // A stalled upload: the rest of its body will not be read, so the connection ends here.
      status = 408;
      body = { code: 'REQUEST_TIMEOUT', message: err.expose ? err.message : 'the request took too long' };
      res.setHeader('Connection', 'close');
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      status = err.status;
      body = { code: 'BAD_REQUEST', message: err.expose ? err.message : 'bad request' };
    } else {
      const errorId = crypto.randomUUID();
      log.error({ errorId, err }, 'unexpected error');
      status = 500;
      body = { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error', errorId };
    }
    if (req.path.startsWith('/graphql')) {
      const { code, message, ...rest } = body;
      res.status(status).json({ errors: [{ message, extensions: { code, ...rest } }] });
    } else {
      res.status(status).json({ error: body });
    }
  };
}
