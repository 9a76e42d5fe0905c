import pg from 'pg';

export interface PoolOptions {
  max: number;
  /** Bound on one statement and on waiting for a connection, in ms. */
  timeoutMs: number;
  /** Told about connection faults that would otherwise go unseen (an idle connection dropped, a backend that stopped answering). */
  onFault?: (what: string, err: unknown) => void;
  /** Told how long each checkout waited for a connection, in seconds (for /metrics). */
  onWait?: (seconds: number) => void;
}

// Postgres refusing a new connection because all its slots are taken (53300) is a queue, not an
// error: the pool waits for a connection to come free, up to its timeout, before giving up.
const TOO_MANY_CONNECTIONS = '53300';
// After the server-side statement_timeout, give the server a moment to cancel the statement
// itself (the connection then stays usable) before deciding that it is frozen.
const CLIENT_GRACE_MS = 500;

/**
 * A node-postgres pool that cannot take the process down and never waits forever:
 * - every client carries an `error` listener for its whole life, busy or idle (pg-pool removes its
 *   own while a client is checked out, so a backend terminated mid-transaction, 57P01, would be an
 *   unhandled `error` event);
 * - the server cancels any statement past `timeoutMs` (statement_timeout), and a connection whose
 *   server does not answer by then (a frozen Postgres) is destroyed, which fails the statement and
 *   drops the connection from the pool;
 * - getting a connection is bounded by the same timeout, and `too many connections` is retried
 *   with backoff within it.
 */
export function createPool(connectionString: string, opts: PoolOptions): pg.Pool {
  const pool = new PatientPool({
    connectionString,
    max: opts.max,
    connectionTimeoutMillis: opts.timeoutMs,
    statement_timeout: opts.timeoutMs,
    // A transaction left open by a client that vanished must not hold locks forever.
    idle_in_transaction_session_timeout: Math.max(opts.timeoutMs * 2, 10_000),
    // Dead peers (a Postgres host that vanished) are found by TCP keepalive, not only by the timer.
    keepAlive: true,
  } as pg.PoolConfig);
  pool.connectTimeoutMs = opts.timeoutMs;
  if (opts.onWait) pool.onWait = opts.onWait;
  const fault = opts.onFault ?? (() => {});
  // An idle client losing its connection: the pool has already removed it.
  pool.on('error', (err) => fault('idle database connection lost', err));
  pool.on('connect', (client) => {
    client.on('error', (err) => fault('database connection lost', err));
    boundQueries(client, opts.timeoutMs + CLIENT_GRACE_MS, fault);
  });
  return pool;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's own signature
type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: any) => void) => void;

class PatientPool extends pg.Pool {
  connectTimeoutMs = 10_000;
  onWait?: (seconds: number) => void;

  // pg-pool's own query() calls connect() with a callback; drizzle's transactions call it without.
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const pending = this.connectPatiently();
    if (!callback) return pending;
    pending.then(
      (client) => callback(undefined, client, client.release),
      (err: Error) => callback(err, undefined, () => {}),
    );
  }

  private async connectPatiently(): Promise<pg.PoolClient> {
    const started = performance.now();
    const client = await this.connectWithRetries();
    this.onWait?.((performance.now() - started) / 1000);
    return client;
  }

  private async connectWithRetries(): Promise<pg.PoolClient> {
    const deadline = Date.now() + this.connectTimeoutMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      try {
        return await (super.connect as () => Promise<pg.PoolClient>)();
      } catch (err) {
        if ((err as { code?: string }).code !== TOO_MANY_CONNECTIONS || Date.now() + delay >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

type QueryFn = (...args: unknown[]) => unknown;

// Clients taken out of the per-statement bound (the migration runner, whose statements and lock
// wait may rightly outlast a request's timeout).
const unboundedClients = new WeakSet<object>();

/** Lifts both the server's statement_timeout and the client-side bound from one checked-out client; release it with `release(true)` after, so the pool never hands it out again. */
export async function withoutTimeout(client: pg.PoolClient): Promise<void> {
  unboundedClients.add(client);
  await client.query('set statement_timeout = 0');
}

/** Destroys the connection under any query that has not finished `limitMs` after it was sent. */
function boundQueries(client: pg.PoolClient, limitMs: number, fault: (what: string, err: unknown) => void): void {
  const query = client.query.bind(client) as QueryFn;
  const destroy = () => {
    const err = new Error(`The database did not answer within ${limitMs} ms`);
    fault('database connection dropped', err);
    (client as unknown as { connection?: { stream?: { destroy(e?: Error): void } } }).connection?.stream?.destroy(err);
  };
  (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    if (unboundedClients.has(client)) return query(...args);
    const last = args.length - 1;
    const timer = setTimeout(destroy, limitMs);
    timer.unref();
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...a: unknown[]) => void;
      args[last] = (...a: unknown[]) => {
        clearTimeout(timer);
        callback(...a);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    } else {
      // A Submittable (cursor, stream): bounded by statement_timeout on the server only.
      clearTimeout(timer);
    }
    return result;
  };
}
