import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
const redactPaths = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'connectionParams',
  'adminPassword',
  'secretKey',
  'passphrase',
  '*.passphrase',
  // A failed statement's parameters (TypeORM's QueryFailedError carries them): rows of user
  // data, sealed secrets, and for an import batch megabytes per line.
  'parameters',
  '*.parameters',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'stagecraft' }, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}
