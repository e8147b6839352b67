/**
 * The shared contract for anything that may invalidate a credential (token revoked, logout,
 * password or role change, user deleted, gateway token revoked): the transaction that makes the
 * change also runs `pg_notify('stagecraft_auth', '')`. Every replica listens and re-checks the
 * credentials of its open sockets, so a revocation reaches sockets on all replicas at commit.
 * The payload is empty on purpose: the listener re-checks everything it holds, in one query.
 */
import type { EntityManager } from 'typeorm';
import { ChannelListener } from '../db/channel-listener.js';
import type { Logger } from '../logger.js';

export const AUTH_CHANNEL = 'stagecraft_auth';

/** Call inside the transaction that changes a credential; delivered at commit, never on rollback. */
export async function announceCredentialChange(tx: EntityManager): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [AUTH_CHANNEL, '']);
}

/** Every replica's listener on the channel: `onChange` on each notification and after a reconnect (one may have been missed). */
export function listenForCredentialChanges(databaseUrl: string, log: Logger, onChange: () => void): ChannelListener {
  return new ChannelListener({
    databaseUrl,
    channel: AUTH_CHANNEL,
    applicationName: 'stagecraft-auth-listener',
    log,
    onNotification: onChange,
    onReconnect: onChange,
  });
}
