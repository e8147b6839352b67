/**
 * While a client address is locked out for failed sign-ins, it gets no anonymous GraphQL at all
 * (anonymous callers can do little but sign in). The refusal happens before the body is read or
 * parsed, and it is held back for a moment (a tarpit): a flooding client then waits on each answer
 * instead of costing the server a GraphQL execution per request, so signed-in users keep their
 * latency. Held answers per address are capped; beyond the cap the answer is immediate and the
 * connection closed, so holding costs nothing unbounded. Requests with a bearer token are not
 * affected (an unknown one is refused UNAUTHENTICATED before any sign-in runs).
 */
import type express from 'express';
import { retryAfterSeconds } from '../domain/login-throttle.js';
import type { Services } from '../services/index.js';
import { bearerToken } from './auth-context.js';

/** How long a refusal to a locked-out address is held before it is sent. */
const HOLD_MS = 1000;
/** Refusals held at once per address; more are answered at once with `Connection: close`. */
const MAX_HELD_PER_ADDRESS = 64;

export function refuseLockedOutAnonymous(services: Services): express.RequestHandler {
  const held = new Map<string, number>();
  const release = (address: string) => {
    const n = (held.get(address) ?? 1) - 1;
    if (n > 0) held.set(address, n);
    else held.delete(address);
  };
  return (req, res, next) => {
    // Only a bearer token is a way around: any other Authorization header is anonymous too.
    if (bearerToken(req.headers.authorization)) return next();
    const address = req.socket.remoteAddress ?? null;
    const until = address === null ? null : services.auth.signInLockedUntil(address);
    if (address === null || until === null) return next();
    const seconds = retryAfterSeconds(new Date(until), new Date());
    const refuse = () => {
      if (res.headersSent || res.destroyed) return;
      res
        .status(429)
        .set('Retry-After', String(seconds))
        .json({ errors: [{ message: `too many failed sign-ins from this address; try again in ${seconds} s`, extensions: { code: 'TOO_MANY_REQUESTS', retryAfterSeconds: seconds } }] });
    };
    req.resume();
    const count = held.get(address) ?? 0;
    if (count >= MAX_HELD_PER_ADDRESS) {
      res.set('Connection', 'close');
      return refuse();
    }
    held.set(address, count + 1);
    const timer = setTimeout(() => {
      res.off('close', onClose);
      release(address);
      refuse();
    }, HOLD_MS);
    timer.unref();
    const onClose = () => {
      clearTimeout(timer);
      release(address);
    };
    res.once('close', onClose);
  };
}
