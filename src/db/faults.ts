// Which database errors are a temporary outage (503, worth a retry) and which are the client's
// fault (400). Shared by the HTTP error hook and the W&B GraphQL endpoint so both answer alike.

type ErrorLike = { code?: unknown; message?: unknown; cause?: unknown } | undefined;

// node-postgres reports a lost or refused connection in words, without a SQLSTATE.
const CONNECTION_LOST = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|Connection terminated due to connection timeout|Query read timeout|The database did not answer/;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

export type DbFault = { kind: 'client' | 'unavailable' | 'exists'; message: string };

/** Walks the cause chain (drizzle wraps the driver's error) and names the first fault it knows. */
export function classifyDbError(err: unknown): DbFault | undefined {
  for (let e = err as ErrorLike, depth = 0; e && typeof e === 'object' && depth < 6; e = e.cause as ErrorLike, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    // 22xxx: data exceptions (a bigint out of range, a NUL byte in text): values only the client sent.
    if (code.startsWith('22')) return { kind: 'client', message };
    // A race two clients lost against each other (two renames to one name): the loser's name is taken.
    if (code === '23505') return { kind: 'exists', message };
    if (
      code === '40001' || // serialization failure
      code === '40P01' || // deadlock
      code.startsWith('08') || // connection exceptions
      code.startsWith('53') || // insufficient resources: too many connections, out of memory or disk
      code.startsWith('57P') || // admin/crash shutdown, cannot connect now (starting up)
      code === '57014' || // statement_timeout cancelled the statement
      code === '55P03' || // lock_not_available
      NETWORK_CODES.has(code) ||
      CONNECTION_LOST.test(message)
    ) {
      return { kind: 'unavailable', message };
    }
  }
  return undefined;
}

/** Postgres' unique_violation, wherever the driver put it in the cause chain. */
export const isUniqueViolation = (err: unknown): boolean => classifyDbError(err)?.kind === 'exists';
