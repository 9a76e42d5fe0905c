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

  /** Seconds from the start to the last call's end: calls in flight at the deadline complete and count. */
  elapsed(): number {
    const end = Math.max(this.lastEnd, this.stoppedAt ?? 0) || performance.now();
    return (end - this.started) / 1000;
  }

  stats(): Stats {
    return pooledStats([this]);
  }

  /** This recorder's calls, for pooledStats. */
  part(): { latencies: readonly number[]; errors: number; firstError?: string; seconds: number; extra: Record<string, number> } {
    return { latencies: this.latencies, errors: this.errorCount, firstError: this.firstError, seconds: this.elapsed(), extra: this.extra };
  }
}

/** The Stats of several recorders' calls taken together (slices of one measurement), their seconds summed. */
export function pooledStats(recorders: readonly Recorder[]): Stats {
  const parts = recorders.map((r) => r.part());
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  const firstError = parts.find((p) => p.firstError !== undefined)?.firstError;
  const errorCount = parts.reduce((a, p) => a + p.errors, 0);
  const counters: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.extra)) counters[k] = (counters[k] ?? 0) + v;
  const sorted = Float64Array.from(parts.flatMap((p) => p.latencies)).sort();
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
  const sum = sorted.reduce((a, b) => a + b, 0);
  const extra: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) {
    extra[k] = v;
    extra[`${k}_per_s`] = v / seconds;
  }
  return {
    requests: sorted.length,
    errors: errorCount,
    seconds: round(seconds, 3),
    rps: round(sorted.length / seconds, 1),
    p50: round(pct(50), 2),
    p95: round(pct(95), 2),
    p99: round(pct(99), 2),
    mean: round(sorted.length ? sum / sorted.length : NaN, 2),
    max: round(sorted.length ? sorted[sorted.length - 1] : NaN, 2),
    firstError,
    extra: Object.keys(extra).length ? extra : undefined,
  };
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
  return (await driveRecorder(client, limits, loop)).stats();
}

/** drive(), keeping its Recorder: slices of one measurement taken apart in time are pooled by pooledStats. */
export async function driveRecorder(
  client: Client,
  limits: { seconds: number; requests?: number; atLeastSeconds?: number; concurrency: number },
  loop: (rec: Recorder, worker: number) => Promise<void>,
): Promise<Recorder> {
  const rec = new Recorder(client, limits);
  await Promise.all(Array.from({ length: limits.concurrency }, (_, w) => loop(rec, w)));
  return rec;
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
