import { Pool } from 'undici';

/** One HTTP request of a scenario. */
export interface Req {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** JSON value (serialised here), JSON text already serialised, or raw bytes. */
  json?: unknown;
  jsonText?: string;
  raw?: Buffer;
}

export interface Answer {
  status: number;
  /** Body text, unless the caller asked to only count bytes. */
  text: string;
  bytes: number;
}

export interface Stats {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  firstError?: string;
  /** Scenario-specific counters (metric points, MiB, …) and their rates per second. */
  extra?: Record<string, number>;
}

/** An HTTP client with a fixed number of keep-alive connections to one server. */
export class Client {
  readonly pool: Pool;
  constructor(readonly url: string, connections: number) {
    // Idle connections are dropped after 4 s, before the servers do (uvicorn and Node both close
    // idle keep-alive connections after 5 s): reusing one the server is closing fails the request
    // with "other side closed".
    this.pool = new Pool(url, {
      connections,
      pipelining: 1,
      headersTimeout: 900_000,
      bodyTimeout: 900_000,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 4_000,
    });
  }

  async send(req: Req, opts: { countOnly?: boolean } = {}): Promise<Answer> {
    const body = req.jsonText ?? (req.json !== undefined ? JSON.stringify(req.json) : req.raw);
    const headers: Record<string, string> = {};
    if (req.json !== undefined || req.jsonText !== undefined) headers['content-type'] = 'application/json';
    else if (req.raw) headers['content-type'] = 'application/octet-stream';
    const res = await this.pool.request({ method: req.method, path: req.path, body, headers });
    if (opts.countOnly && res.statusCode === 200) {
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      return { status: res.statusCode, text: '', bytes };
    }
    const text = await res.body.text();
    return { status: res.statusCode, text, bytes: Buffer.byteLength(text) };
  }

  /** A setup call: JSON in, JSON out, anything but 200 is an error; a dropped connection is retried once. */
  async api<T = Record<string, unknown>>(method: Req['method'], path: string, json?: unknown): Promise<T> {
    const req: Req = { method, path, json: json ?? (method === 'GET' ? undefined : {}) };
    const a = await this.send(req).catch(() => this.send(req));
    if (a.status !== 200) throw new Error(`${method} ${path} -> ${a.status}: ${a.text.slice(0, 300)}`);
    return (a.text ? JSON.parse(a.text) : {}) as T;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Collects latencies of calls made by any number of concurrent loops, until a deadline or a budget. */
export class Recorder {
  private latencies: number[] = [];
  private errorCount = 0;
  private firstError?: string;
  private started = performance.now();
  private stoppedAt?: number;
  private lastEnd = 0;
  private issued = 0;
  readonly extra: Record<string, number> = {};
  constructor(
    private client: Client,
    private limits: { seconds: number; requests?: number; atLeastSeconds?: number },
  ) {}

  /**
   * True once the time is up or the request budget is spent (and, with atLeastSeconds, that long has
   * passed too); loops check it before each call.
   */
  get done(): boolean {
    if (this.stoppedAt !== undefined) return true;
    const elapsed = performance.now() - this.started;
    const spent = this.limits.requests !== undefined && this.issued >= this.limits.requests && elapsed >= (this.limits.atLeastSeconds ?? 0) * 1000;
    const over = elapsed >= this.limits.seconds * 1000 || spent;
    if (over) this.stoppedAt = performance.now();
    return over;
  }

  /** Claims one request of the budget; false when the budget is spent or time is up. */
  claim(): boolean {
    if (this.done) return false;
    this.issued++;
    return true;
  }

  async call(req: Req, opts: { countOnly?: boolean; check?: (a: Answer) => string | undefined } = {}): Promise<Answer | undefined> {
    const t0 = performance.now();
    let answer: Answer | undefined;
    let error: string | undefined;
    try {
      answer = await this.client.send(req, opts);
      if (answer.status !== 200) error = `${req.method} ${req.path.split('?')[0]} -> ${answer.status}: ${answer.text.slice(0, 200)}`;
      else error = opts.check?.(answer);
    } catch (err) {
      error = `${req.method} ${req.path.split('?')[0]}: ${(err as Error).message}`;
    }
    this.lastEnd = performance.now();
    this.latencies.push(this.lastEnd - t0);
    if (error) {
      this.errorCount++;
      this.firstError ??= error;
      return undefined;
    }
    return answer;
  }

  count(name: string, n: number): void {
    this.extra[name] = (this.extra[name] ?? 0) + n;
  }

  stats(): Stats {
    // Calls still in flight at the deadline complete and count, so the clock runs until the last one.
    const end = Math.max(this.lastEnd, this.stoppedAt ?? 0) || performance.now();
    const seconds = (end - this.started) / 1000;
    const sorted = Float64Array.from(this.latencies).sort();
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
    const sum = sorted.reduce((a, b) => a + b, 0);
    const extra: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.extra)) {
      extra[k] = v;
      extra[`${k}_per_s`] = v / seconds;
    }
    return {
      requests: sorted.length,
      errors: this.errorCount,
      seconds: round(seconds, 3),
      rps: round(sorted.length / seconds, 1),
      p50: round(pct(50), 2),
      p95: round(pct(95), 2),
      p99: round(pct(99), 2),
      mean: round(sorted.length ? sum / sorted.length : NaN, 2),
      max: round(sorted.length ? sorted[sorted.length - 1] : NaN, 2),
      firstError: this.firstError,
      extra: Object.keys(extra).length ? extra : undefined,
    };
  }
}

const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/**
 * Runs `loop` in `concurrency` parallel copies against a Recorder. A loop calls rec.claim() before
 * each request and returns when it says no; the last in-flight calls complete and are counted.
 */
export async function drive(
  client: Client,
  limits: { seconds: number; requests?: number; atLeastSeconds?: number; concurrency: number },
  loop: (rec: Recorder, worker: number) => Promise<void>,
): Promise<Stats> {
  const rec = new Recorder(client, limits);
  await Promise.all(Array.from({ length: limits.concurrency }, (_, w) => loop(rec, w)));
  return rec.stats();
}

/** The simple case: each loop sends make(i) for i = 0, 1, 2, … across all loops. */
export function simpleLoop(make: (i: number, worker: number) => Req, opts: { countOnly?: boolean; check?: (a: Answer) => string | undefined } = {}) {
  let next = 0;
  return async (rec: Recorder, worker: number) => {
    while (rec.claim()) await rec.call(make(next++, worker), opts);
  };
}

/** Runs fn over items with at most n in flight (setup and seeding). */
export async function parallel<T>(n: number, items: T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const k = i++;
        await fn(items[k], k);
      }
    }),
  );
}
