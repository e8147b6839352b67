/**
 * The job runner's own database connection: one pg.Client, outside the request pool, that
 * LISTENs for new jobs and carries the runner's claims, lease renewals and final statuses.
 * A pool full of request and subscription traffic therefore can never delay a lease renewal
 * (issue 10: renewals queued behind 500 subscribers let a lease lapse and the job ran twice).
 *
 * The connection is re-opened on loss; a statement that does not answer within `timeoutMs`
 * counts as a lost connection too (a half-open TCP connection would otherwise hang renewals
 * until the lease is long gone).
 */
import pg from 'pg';
import type { Logger } from '../logger.js';

export class JobConnection {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly log: Logger,
    private readonly timeoutMs: number,
    /** Called on every NOTIFY on the channel, and after a reconnect (notifications may have been missed). */
    private readonly onWake: () => void,
  ) {}

  /** Connects and LISTENs; later losses reconnect on the next query. */
  async open(): Promise<void> {
    await this.connection();
  }

  async query<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<R[]> {
    const client = await this.connection();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`job connection: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const result = await Promise.race([client.query<R>(text, params), timeout]);
      return result.rows;
    } catch (err) {
      // Whatever failed, the next statement starts on a fresh connection.
      this.drop(client, err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('job connection is closed'));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: 'stagecraft-jobs',
      keepAlive: true,
      connectionTimeoutMillis: this.timeoutMs,
      // Server side too: a renewal stuck behind a lock must fail, not wait past the lease.
      statement_timeout: this.timeoutMs,
    });
    client.on('notification', () => this.onWake());
    client.on('error', (err) => this.drop(client, err));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('job connection is closed');
    }
    this.client = client;
    this.onWake();
    return client;
  }

  private drop(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (!this.closed) this.log.warn({ err: err.message }, 'job connection lost; reconnecting');
    client.end().catch(() => undefined);
  }
}
