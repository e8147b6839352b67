/**
 * The shared contract for anything that may invalidate a credential (token revoked, logout,
 * password or role change, user deleted, gateway token revoked): the transaction that makes the
 * change also runs `pg_notify('stagecraft_auth', '')`. Every replica listens and re-checks the
 * credentials of its open sockets, so a revocation reaches sockets on all replicas at commit.
 * The payload is empty on purpose: the listener re-checks everything it holds, in one query.
 */
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import type { Logger } from '../logger.js';

export const AUTH_CHANNEL = 'stagecraft_auth';

/** Call inside the transaction that changes a credential; delivered at commit, never on rollback. */
export async function announceCredentialChange(tx: EntityManager): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [AUTH_CHANNEL, '']);
}

/**
 * One dedicated connection LISTENing on the channel. After losing it, it reconnects and reports a
 * change anyway (one may have been missed while it was away).
 */
export class CredentialChangeListener {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly onChange: () => void,
    private readonly reconnectMs = 1000,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'stagecraft-auth-listener' });
    client.on('notification', () => this.onChange());
    client.on('error', (err) => this.reconnect(err));
    client.on('end', () => this.reconnect(new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${AUTH_CHANNEL}`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnect(err: Error): void {
    if (this.closed || this.reconnectTimer) return;
    this.log.warn({ err: err.message }, 'credential-change listener lost its connection; reconnecting');
    const lost = this.client;
    this.client = undefined;
    lost?.removeAllListeners('end');
    lost?.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.start()
        .then(() => this.onChange())
        .catch((e: Error) => this.reconnect(e));
    }, this.reconnectMs);
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners('end');
    await client?.end().catch(() => undefined);
  }
}
