/**
 * Turns the credentials a client sent (HTTP header or connection_init payload) into the request
 * context. One function for both transports, so they authenticate identically.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from '../graphql/context.js';
import { createLoaders } from '../graphql/loaders.js';
import type { Logger } from '../logger.js';
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

/** Throws AppError UNAUTHENTICATED for a token that is not valid; no token = anonymous. */
export async function buildContext(services: Services, log: Logger, token: string | null): Promise<Context> {
  const requestId = randomUUID();
  let user: AuthUser | null = null;
  let gateway: Context['gateway'] = null;
  if (token?.startsWith(GATEWAY_TOKEN_PREFIX)) {
    // A gateway instance: the guard (graphql/guard.ts) lets it use GATEWAY_AGENT fields only.
    const instance = await services.gateways.authenticateInstance(token);
    gateway = instance;
    user = { id: `gateway:${instance.tokenId}`, username: `gateway@${instance.group}`, role: 'VIEWER', privileges: ['GATEWAY_AGENT'] };
  } else if (token) {
    user = await services.auth.authenticate(token);
  }
  return { requestId, user, gateway, token, services, loaders: createLoaders(services), log: log.child({ requestId, user: user?.username }) };
}
