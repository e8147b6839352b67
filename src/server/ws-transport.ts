/**
 * graphql-ws on a `ws` WebSocketServer — our own binding in place of `graphql-ws/use/ws`, which
 * reports socket errors with console.error: an oversized or broken frame wrote a multi-line stack
 * trace to stdout, between the JSON log lines. Here every such event is one structured log line,
 * and the socket closes with the code the failure calls for (1009 for a frame over the size
 * limit, as `ws` sends it; 1011 for our own faults).
 */
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type http from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';

/** What every graphql-ws callback finds in `ctx.extra`. */
export interface WsExtra {
  readonly socket: WebSocket;
  readonly request: http.IncomingMessage;
}

/** Close reasons are limited to 123 bytes by the protocol; ours are short, this keeps it so. */
export const closeReason = (reason: string) => (Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString());

export function serveGraphqlWs<P extends Record<string, unknown>, E extends WsExtra>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  log: Logger,
  makeExtra: (socket: WebSocket, request: http.IncomingMessage) => E,
  maxBufferedBytes: number,
  keepAliveMs = 12_000,
): { dispose(): Promise<void> } {
  const server = makeServer<P, E>(options);
  // Agree to graphql-transport-ws only; a client offering nothing else gets no subprotocol.
  wss.options.handleProtocols = handleProtocols;

  wss.on('error', (err) => {
    log.error({ err }, 'WebSocket server error; closing every socket');
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, 'Internal server error');
  });

  wss.on('connection', (socket, request) => {
    socket.on('error', (err: Error & { code?: string }) => {
      // `ws` has already started closing for protocol faults (1009 message too big, 1002 …);
      // anything else is ours to close.
      log.warn({ err: err.message, code: err.code }, 'WebSocket closed after a socket error');
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, 'Internal server error');
    });

    // Liveness: a peer that does not answer a ping within keepAliveMs is dropped.
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAliveMs);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            // A peer that sends (pings echo their payload) but does not read would have its
            // answers queued in our memory without end: past the bound it loses the socket.
            if (socket.bufferedAmount > maxBufferedBytes) {
              log.warn({ bufferedBytes: socket.bufferedAmount, limit: maxBufferedBytes }, 'WebSocket peer does not read its messages; terminating it');
              socket.terminate();
              return resolve();
            }
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', async (data) => {
            try {
              await cb(String(data));
            } catch (err) {
              log.error({ err }, 'unexpected error while handling a WebSocket message');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      makeExtra(socket, request),
    );

    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(pingInterval);
      closed(code, String(reason)).catch((err: unknown) => log.error({ err }, 'unexpected error while closing a WebSocket'));
    });
  });

  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
