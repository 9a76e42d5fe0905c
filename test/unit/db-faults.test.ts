import { describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../src/config.js';
import { classifyDbError, isUniqueViolation } from '../../src/db/faults.js';

// The one place that decides which database errors are a 503 worth a retry. The fault tests in
// test/faults produce most of these for real; the rest (out of memory, lock timeouts) are listed here.

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
// drizzle wraps the driver's error, quoting the SQL.
const wrapped = (cause: Error) => Object.assign(new Error('Failed query: select 1'), { cause });

describe('classifyDbError', () => {
  it.each([
    ['57P01', 'terminating connection due to administrator command'],
    ['57P03', 'the database system is starting up'],
    ['53300', 'sorry, too many clients already'],
    ['53200', 'out of memory'],
    ['57014', 'canceling statement due to statement timeout'],
    ['08006', 'connection failure'],
    ['40001', 'could not serialize access'],
    ['55P03', 'could not obtain lock'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'],
  ])('%s is temporary, wrapped or not', (code, message) => {
    expect(classifyDbError(pgError(code, message))?.kind).toBe('unavailable');
    expect(classifyDbError(wrapped(pgError(code, message)))?.kind).toBe('unavailable');
  });

  it.each(['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Connection terminated due to connection timeout', 'The database did not answer within 1500 ms'])(
    'node-postgres\' "%s" (no SQLSTATE) is temporary',
    (message) => {
      expect(classifyDbError(wrapped(new Error(message)))?.kind).toBe('unavailable');
    },
  );

  it('a data exception is the client\'s, a unique violation a name taken, anything else unknown', () => {
    expect(classifyDbError(wrapped(pgError('22003', 'bigint out of range')))?.kind).toBe('client');
    expect(isUniqueViolation(wrapped(pgError('23505', 'duplicate key value violates unique constraint')))).toBe(true);
    expect(classifyDbError(wrapped(pgError('42P01', 'relation does not exist')))).toBeUndefined();
    expect(classifyDbError(new TypeError('x is undefined'))).toBeUndefined();
  });
});

describe('--db-timeout and --s3-timeout', () => {
  it('take seconds from the flag or the environment, 30 by default', () => {
    expect(parseConfig([], {})).toMatchObject({ dbTimeoutMs: 30_000, s3TimeoutMs: 30_000 });
    expect(parseConfig(['--db-timeout', '1.5', '--s3-timeout', '2'], {})).toMatchObject({ dbTimeoutMs: 1500, s3TimeoutMs: 2000 });
    expect(parseConfig([], { CAIRN_DB_TIMEOUT: '5', CAIRN_S3_TIMEOUT: '7' })).toMatchObject({ dbTimeoutMs: 5000, s3TimeoutMs: 7000 });
    expect(parseConfig(['--db-timeout', '4'], { CAIRN_DB_TIMEOUT: '5' }).dbTimeoutMs).toBe(4000);
  });

  it.each([['--db-timeout', 'abc'], ['--db-timeout', '0'], ['--s3-timeout', '1e3'], ['--s3-timeout', '99999']])('refuse %s %s in one line', (flag, value) => {
    expect(() => parseConfig([flag, value], {})).toThrow(ConfigError);
    expect(() => parseConfig([flag, value], {})).toThrow(new RegExp(`invalid value for ${flag}: expected a number of seconds between 0.1 and 3600`));
  });
});
