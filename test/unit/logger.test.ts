/**
 * What never reaches a log line: credentials, and the parameters of a failed statement (TypeORM's
 * QueryFailedError carries them: rows of user data, sealed secrets, megabytes for an import batch).
 */
import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('info', destination), lines };
}

describe('logger', () => {
  it('keeps a failed statement and its error, never its parameters', () => {
    const { log, lines } = capture();
    const err = new QueryFailedError('INSERT INTO assets (spec) SELECT * FROM json_to_recordset($1::json)', ['[{"sealed_secret":"v1:abc-sealed"}]'], new Error('deadlock detected'));
    log.error({ err }, 'archive import failed');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line.err.message).toBe('deadlock detected');
    expect(line.err.query).toContain('INSERT INTO assets');
    expect(line.err.parameters).toBe('[redacted]');
    expect(lines[0]).not.toContain('v1:abc-sealed');
  });

  it('redacts passwords and tokens wherever they sit one level down', () => {
    const { log, lines } = capture();
    log.info({ password: 'hunter2', user: { token: 'tok-123' }, headers: { authorization: 'Bearer x' } }, 'hello');
    expect(lines[0]).not.toMatch(/hunter2|tok-123|Bearer x/);
  });
});
