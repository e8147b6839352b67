import type { Logger } from '../logger.js';
import type { AuthUser } from '../services/auth.js';
import type { GatewayPrincipal } from '../services/gateways.js';
import type { Services } from '../services/index.js';
import type { Loaders } from './loaders.js';

/** What every resolver gets: who is asking, the services, and this request's logger. */
export interface Context {
  requestId: string;
  user: AuthUser | null;
  /** The bearer token of this request (for logout). Never logged. */
  token: string | null;
  /** The peer address of the connection (sign-in throttling); proxies' forwarding headers are not trusted. */
  clientAddress: string | null;
  services: Services;
  /** Set when a gateway instance (join token) is asking: its token and group. */
  gateway: GatewayPrincipal | null;
  /** This request's DataLoaders (a fresh set per request or subscription event). */
  loaders: Loaders;
  log: Logger;
}
