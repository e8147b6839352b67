/**
 * A raw graphql-transport-ws peer on a plain \`ws\` socket (not graphql-ws's own client, which
 * would hide the protocol): send messages, read them in order, observe the close code.
 */
import WebSocket from 'ws';
import { expect } from 'vitest';

export const PROTOCOL = 'graphql-transport-ws';
export const WAIT_MS = 3000;

export interface Message {
  type: string;
  id?: string;
  payload?: any;
}

export interface Closed {
  code: number;
  reason: string;
}

export interface Peer {
  ws: WebSocket;
  /** Sends a message: objects as JSON, strings as they are. */
  send(message: Message | Record<string, unknown> | string): void;
  /** The next message from the server (queued ones first); fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Message>;
  /** Resolves when the server closes the socket; fails after `timeoutMs`. */
  closed(timeoutMs?: number): Promise<Closed>;
}

/** Every socket opened, for the test file to terminate after each test. */
export const opened: WebSocket[] = [];

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Opens a raw WebSocket offering `protocols`; resolves once open. */
export async function connect(url: string, protocols: string | string[] = PROTOCOL): Promise<Peer> {
  const ws = new WebSocket(url, protocols);
  opened.push(ws);
  ws.on('error', () => undefined); // reported through `open` below or the close code
  const inbox: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  const closedPromise = new Promise<Closed>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    WAIT_MS,
    'the socket to open',
  );
  return {
    ws,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (timeoutMs = WAIT_MS) => {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      let waiter!: (m: Message) => void;
      const promise = new Promise<Message>((resolve) => {
        waiter = resolve;
        waiters.push(resolve);
      });
      return withTimeout(promise, timeoutMs, 'a message').catch((err) => {
        waiters.splice(waiters.indexOf(waiter), 1);
        throw err;
      });
    },
    closed: (timeoutMs = WAIT_MS) => withTimeout(closedPromise, timeoutMs, 'the server to close the socket'),
  };
}

/** Opens a socket and completes connection_init → connection_ack. */
export async function connectAndInit(url: string, payload?: Record<string, unknown>): Promise<Peer> {
  const peer = await connect(url);
  peer.send(payload ? { type: 'connection_init', payload } : { type: 'connection_init' });
  expect(await peer.next()).toEqual({ type: 'connection_ack' });
  return peer;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
