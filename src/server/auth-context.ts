/**
 * Turns the credentials a client sent (HTTP header or connection_init payload) into the request
 * context. One function for both transports, so they authenticate identically — and the same
 * rule re-checks the credentials of open sockets (one at a time, or all of them in one batch).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from '../graphql/context.js';
import { createLoaders } from '../graphql/loaders.js';
import type { Logger } from '../logger.js';
import { AppError } from '../errors.js';
import type { AuthUser } from '../services/auth.js';
import { GATEWAY_TOKEN_PREFIX } from '../services/gateways.js';
import type { Services } from '../services/index.js';

/** `Bearer <token>` → token; anything else → null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** graphql-ws clients put the header (or just the token) into the connection_init payload. */
export function tokenFromConnectionParams(params: Record<string, unknown> | undefined | null): string | null {
  if (!params) return null;
  const header = params.Authorization ?? params.authorization ?? params.headers;
  if (header && typeof header === 'object') {
    const headers = header as Record<string, unknown>;
    return bearerToken(headers.Authorization ?? headers.authorization);
  }
  if (typeof params.token === 'string') return params.token;
  return bearerToken(header);
}

/** Who a token stands for; anonymous without a token. */
export interface Principal {
  user: AuthUser | null;
  gateway: Context['gateway'];
  /** When the credential stops counting (sockets close then); null: until revoked. */
  expiresAt: Date | null;
}

const anonymous: Principal = { user: null, gateway: null, expiresAt: null };

/** Throws AppError UNAUTHENTICATED for a token that is not valid; no token = anonymous. */
export async function authenticatePrincipal(services: Services, token: string | null): Promise<Principal> {
  if (!token) return anonymous;
  if (token.startsWith(GATEWAY_TOKEN_PREFIX)) {
    // A gateway instance: the guard (graphql/guard.ts) lets it use GATEWAY_AGENT fields only.
    const instance = await services.gateways.authenticateInstance(token);
    return {
      user: { id: `gateway:${instance.tokenId}`, username: `gateway@${instance.group}`, role: 'VIEWER', privileges: ['GATEWAY_AGENT'] },
      gateway: instance,
      expiresAt: null,
    };
  }
  const { user, expiresAt } = await services.auth.credential(token);
  return { user, gateway: null, expiresAt };
}

/**
 * authenticatePrincipal for many tokens at once (every open socket of a replica): user tokens in
 * one statement, gateway tokens one by one (a replica holds few). A token missing from the result
 * no longer counts; a gateway token that no longer counts maps to its refusal (which may say its
 * group was deleted).
 */
export async function authenticatePrincipals(services: Services, tokens: readonly string[]): Promise<Map<string, Principal | AppError>> {
  const distinct = [...new Set(tokens)];
  const userTokens = distinct.filter((t) => !t.startsWith(GATEWAY_TOKEN_PREFIX));
  const result = new Map<string, Principal | AppError>();
  for (const [token, { user, expiresAt }] of await services.auth.credentials(userTokens)) result.set(token, { user, gateway: null, expiresAt });
  for (const token of distinct.filter((t) => t.startsWith(GATEWAY_TOKEN_PREFIX))) {
    try {
      result.set(token, await authenticatePrincipal(services, token));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      result.set(token, err);
    }
  }
  return result;
}

/** The request context of a principal (fresh loaders and request id). */
export function contextFor(services: Services, log: Logger, token: string | null, principal: Principal, clientAddress: string | null): Context {
  const requestId = randomUUID();
  const { user, gateway } = principal;
  return { requestId, user, gateway, token, clientAddress, services, loaders: createLoaders(services), log: log.child({ requestId, user: user?.username }) };
}

/** Throws AppError UNAUTHENTICATED for a token that is not valid; no token = anonymous. */
export async function buildContext(services: Services, log: Logger, token: string | null, clientAddress: string | null = null): Promise<Context> {
  return contextFor(services, log, token, await authenticatePrincipal(services, token), clientAddress);
}
