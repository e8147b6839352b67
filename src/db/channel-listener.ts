/**
 * One dedicated connection LISTENing on a PostgreSQL channel, outside every pool (so no load on
 * the pools can delay a notification). After losing it, it reconnects and calls `onReconnect`:
 * notifications sent while it was away are lost, so the owner must catch up on its own.
 */
import pg from 'pg';
import type { Logger } from '../logger.js';

export interface ChannelListenerOptions {
  databaseUrl: string;
  channel: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  log: Logger;
  onNotification(payload: string | undefined): void;
  onReconnect(): void;
  reconnectMs?: number;
}

export class ChannelListener {
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ChannelListenerOptions) {}

  async start(): Promise<void> {
    const { databaseUrl, channel, applicationName } = this.options;
    const client = new pg.Client({ connectionString: databaseUrl, application_name: applicationName });
    client.on('notification', (msg) => this.options.onNotification(msg.payload));
    client.on('error', (err) => this.reconnect(err));
    client.on('end', () => this.reconnect(new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${channel}`);
    if (this.closed) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnect(err: Error): void {
    if (this.closed || this.reconnectTimer) return;
    this.options.log.warn({ err: err.message, channel: this.options.channel }, 'listener lost its connection; reconnecting');
    const lost = this.client;
    this.client = undefined;
    lost?.removeAllListeners('end');
    lost?.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.start()
        .then(() => this.options.onReconnect())
        .catch((e: Error) => this.reconnect(e));
    }, this.options.reconnectMs ?? 1000);
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
