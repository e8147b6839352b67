/**
 * The open graphql-ws sockets of this replica: who each is signed in as, what it runs, and the
 * rules that bound and end them.
 *
 * - Caps: sockets per principal (anonymous sockets count per client address), subscriptions per
 *   socket and per principal. Over a cap, a socket is closed 4429 and a subscription is answered
 *   TOO_MANY_REQUESTS, each naming the limit.
 * - Revocation: a socket's credential is checked again when it starts an operation, when any
 *   replica announces a credential change (one query for all open sockets), and when it expires.
 *   A socket whose credential no longer counts, or whose privileges shrank, has its running
 *   subscriptions completed and is closed 4403 with the reason — or GROUP_DELETED_CLOSE for a
 *   gateway whose group was deleted, at connection_init too, so the gateway stops for good.
 */
import type { Context as WsContext } from 'graphql-ws';
import { CloseCode, MessageType, stringifyMessage } from 'graphql-ws';
import type { AuthLimits } from '../config.js';
import { GROUP_DELETED_CLOSE } from '../dataplane/config.js';
import { socketVerdict } from '../domain/socket-credentials.js';
import { AppError, tooManyRequests } from '../errors.js';
import type { Logger } from '../logger.js';
import { isGroupDeletedRefusal } from '../services/gateways.js';
import type { Services } from '../services/index.js';
import { authenticatePrincipal, authenticatePrincipals, type Principal } from './auth-context.js';
import { closeReason, type WsExtra } from './ws-transport.js';

/** Close code for a socket refused for being over a cap (graphql-ws uses it for "too many inits"). */
export const TOO_MANY_CLOSE = 4429;

export interface SocketSession {
  token: string | null;
  principal: Principal;
  clientAddress: string | null;
  /** Whose caps the socket counts against, and what they are. */
  caps: Caps;
  /** Ids of the subscriptions it runs (counted against the caps). */
  subscriptions: Set<string>;
  /** graphql-ws's view of the socket: its operations, to complete them on revocation. */
  ws: WsContext<Record<string, unknown>, SocketExtra>;
  expiryTimer?: NodeJS.Timeout;
  closed: boolean;
}

export interface SocketExtra extends WsExtra {
  session?: SocketSession;
}

/** The owner of a socket: the key its sockets and subscriptions are counted under, and their caps. */
interface Caps {
  owner: string;
  /** How refusals name the owner ("the limit is 20 per user"). */
  per: string;
  sockets: number;
  subscriptions: number;
}

/**
 * Whose caps a socket counts against: a gateway join token (its instances may sit behind one
 * address, and other tokens on that address are not theirs; its principal also carries a
 * stand-in user) with caps of its own, one socket and one subscription (its configuration) per
 * instance; a user; or an anonymous client's address.
 */
function capsOf(principal: Principal, clientAddress: string | null, limits: AuthLimits): Caps {
  if (principal.gateway) {
    const perToken = limits.socketsPerGatewayToken;
    return { owner: `gateway-token:${principal.gateway.tokenId}`, per: 'gateway token', sockets: perToken, subscriptions: perToken };
  }
  const [owner, per] = principal.user ? [`user:${principal.user.id}`, 'user'] : [`addr:${clientAddress}`, 'client address'];
  return { owner, per, sockets: limits.socketsPerUser, subscriptions: limits.subscriptionsPerUser };
}

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SocketSessions {
  private readonly open = new Set<SocketSession>();
  private sweep: Promise<void> | undefined;
  private sweepAgain = false;

  constructor(
    private readonly services: Services,
    private readonly log: Logger,
    private readonly limits: AuthLimits,
  ) {}

  /**
   * Registers a socket at connection_init. Returns false after closing it: 4403 for a credential
   * that does not check out, 4429 when its principal already holds socketsPerUser sockets.
   */
  async connect(ws: WsContext<Record<string, unknown>, SocketExtra>, token: string | null): Promise<boolean> {
    const clientAddress = ws.extra.request.socket.remoteAddress ?? null;
    let principal: Principal;
    try {
      principal = await authenticatePrincipal(this.services, token);
    } catch (err) {
      if (isGroupDeletedRefusal(err)) {
        ws.extra.socket.close(GROUP_DELETED_CLOSE, closeReason(err.message));
        return false;
      }
      if (err instanceof AppError) return false; // graphql-ws closes 4403 Forbidden
      throw err;
    }
    const caps = capsOf(principal, clientAddress, this.limits);
    const held = [...this.open].filter((s) => s.caps.owner === caps.owner).length;
    if (held >= caps.sockets) {
      ws.extra.socket.close(TOO_MANY_CLOSE, closeReason(`too many open sockets: the limit is ${caps.sockets} per ${caps.per}`));
      return false;
    }
    const session: SocketSession = { token, principal, clientAddress, caps, subscriptions: new Set(), ws, closed: false };
    ws.extra.session = session;
    this.open.add(session);
    this.armExpiry(session);
    return true;
  }

  disconnect(session: SocketSession | undefined): void {
    if (!session) return;
    session.closed = true;
    clearTimeout(session.expiryTimer);
    this.open.delete(session);
  }

  /**
   * The principal an operation the socket starts runs as, checked now (the same check as a new
   * request). A credential that no longer counts closes the socket (4403) and returns null.
   */
  async principalForOperation(session: SocketSession): Promise<Principal | null> {
    let now: Principal | AppError;
    try {
      now = await authenticatePrincipal(this.services, session.token);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      now = err;
    }
    return this.apply(session, now) ? (now as Principal) : null;
  }

  /** Counts a subscription against the caps, or throws TOO_MANY_REQUESTS naming the limit. */
  reserveSubscription(session: SocketSession, id: string): void {
    const { subscriptionsPerSocket } = this.limits;
    if (session.subscriptions.size >= subscriptionsPerSocket) {
      throw tooManyRequests(`too many subscriptions on this socket: the limit is ${subscriptionsPerSocket}`, { limit: subscriptionsPerSocket });
    }
    const { owner, per, subscriptions: limit } = session.caps;
    let held = 0;
    for (const s of this.open) if (s.caps.owner === owner) held += s.subscriptions.size;
    if (held >= limit) {
      throw tooManyRequests(`too many subscriptions: the limit is ${limit} per ${per}`, { limit });
    }
    session.subscriptions.add(id);
  }

  releaseSubscription(session: SocketSession | undefined, id: string): void {
    session?.subscriptions.delete(id);
  }

  /**
   * Re-checks every open socket's credential (one query for all user tokens). Calls that arrive
   * while a sweep runs are folded into one more sweep after it, so a burst of changes costs two.
   */
  recheckAll(): Promise<void> {
    if (this.sweep) {
      this.sweepAgain = true;
      return this.sweep;
    }
    this.sweep = (async () => {
      try {
        do {
          this.sweepAgain = false;
          await this.sweepOnce();
        } while (this.sweepAgain);
      } catch (err) {
        this.log.error({ err }, 'could not re-check the credentials of open sockets');
      } finally {
        this.sweep = undefined;
      }
    })();
    return this.sweep;
  }

  /** Open sockets (for tests and metrics). */
  get size(): number {
    return this.open.size;
  }

  /** Running subscriptions over all open sockets (metrics). */
  get subscriptionCount(): number {
    let count = 0;
    for (const session of this.open) count += session.subscriptions.size;
    return count;
  }

  private async sweepOnce(): Promise<void> {
    const signedIn = [...this.open].filter((s) => s.token !== null);
    if (!signedIn.length) return;
    const live = await authenticatePrincipals(this.services, signedIn.map((s) => s.token!));
    for (const session of signedIn) if (!session.closed) this.apply(session, live.get(session.token!) ?? null);
  }

  /**
   * Acts on the verdict for `now` (null or the refusal: no longer valid). True when the socket
   * stays open.
   */
  private apply(session: SocketSession, now: Principal | AppError | null): boolean {
    if (session.closed) return false;
    if (isGroupDeletedRefusal(now)) {
      this.revoke(session, now.message, GROUP_DELETED_CLOSE);
      return false;
    }
    if (now instanceof AppError) now = null;
    const verdict = socketVerdict(session.principal.user, now?.user ?? null, session.token !== null);
    if (!verdict.keep) {
      this.revoke(session, verdict.reason);
      return false;
    }
    if (now) {
      session.principal = now; // a raised role, a renamed user: later operations see it
      this.armExpiry(session);
    }
    return true;
  }

  /** Completes the socket's running subscriptions (the client hears `complete` for each), then closes it (4403). */
  private revoke(session: SocketSession, reason: string, code: number = CloseCode.Forbidden): void {
    this.disconnect(session);
    const { socket } = session.ws.extra;
    const subscriptions = session.ws.subscriptions as Record<string, AsyncGenerator<unknown> | AsyncIterable<unknown> | null>;
    for (const [id, running] of Object.entries(subscriptions)) {
      // Taken out first, so graphql-ws does not answer it again when its loop ends.
      delete subscriptions[id];
      if (!running) continue; // an operation still starting: refused by the close
      if (socket.readyState === socket.OPEN) socket.send(stringifyMessage({ id, type: MessageType.Complete }));
      if ('return' in running && typeof running.return === 'function') {
        void (running as AsyncGenerator<unknown>).return(undefined).catch(() => undefined);
      }
    }
    this.log.info({ user: session.principal.user?.username, reason }, 'closing a socket whose credential no longer holds');
    socket.close(code, closeReason(reason));
  }

  private armExpiry(session: SocketSession): void {
    clearTimeout(session.expiryTimer);
    const expiresAt = session.principal.expiresAt;
    if (!expiresAt) return;
    const delay = Math.max(0, expiresAt.getTime() - Date.now());
    session.expiryTimer = setTimeout(() => {
      if (delay > MAX_TIMER_MS) return this.armExpiry(session);
      void this.principalForOperation(session).catch((err: unknown) => this.log.error({ err }, 'could not re-check an expiring socket'));
    }, Math.min(delay, MAX_TIMER_MS));
    session.expiryTimer.unref();
  }
}
