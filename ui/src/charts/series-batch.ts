import { metricSeries, type MetricSeries, type SeriesQuery } from '../api/ui';

// The charts of a page ask for their series one key at a time; asks made within a few milliseconds
// with the same runs, axis, buckets and range go to the server as one request (one grouped query),
// in chunks of a few keys (within the API's 1,000 series per request).

const WINDOW_MS = 8;
// Small chunks: the charts of a batch draw as their chunk arrives rather than all waiting for the last series.
const MAX_KEYS = 4;
const MAX_SERIES = 1000;

interface Waiter {
  key: string;
  resolve: (s: MetricSeries[]) => void;
  reject: (e: unknown) => void;
}

interface Batch {
  query: Omit<SeriesQuery, 'keys'>;
  waiters: Waiter[];
}

const pending = new Map<string, Batch>();

// Series asked for before their charts exist (primeSeries: the run page's first screen, sent as soon
// as the run's metric keys are known instead of after the page has rendered, laid out and observed
// its charts). A chart's first full-range load takes its primed answer when the bucket count is
// within a tenth of its own (the estimate of its width before layout), once; later loads ask anew.
const PRIME_TOLERANCE = 0.1;
const PRIME_TTL_MS = 30_000;
interface Primed {
  buckets: number;
  at: number;
  series: Promise<MetricSeries[]>;
}
const primed = new Map<string, Primed>();
const primeId = (q: Omit<SeriesQuery, 'keys'>, key: string) => JSON.stringify([q.run_ids, q.x_axis ?? 'step', key]);

/** Sends the full-range series of these keys now, in chunks, for charts about to mount. */
export function primeSeries(query: Omit<SeriesQuery, 'keys' | 'x_min' | 'x_max'>, keys: string[]): void {
  const at = Date.now();
  for (const chunk of chunksOf([...new Set(keys)], query.run_ids.length)) {
    const answer = metricSeries({ ...query, keys: chunk });
    answer.catch(() => undefined); // a chart that takes it reports the error
    for (const key of chunk) primed.set(primeId(query, key), { buckets: query.buckets ?? 1000, at, series: answer.then((all) => all.filter((s) => s.key === key)) });
  }
}

function takePrimed(query: Omit<SeriesQuery, 'keys'>, key: string): Promise<MetricSeries[]> | undefined {
  if (query.x_min !== undefined || query.x_max !== undefined) return undefined;
  const id = primeId(query, key);
  const p = primed.get(id);
  if (!p) return undefined;
  primed.delete(id);
  const wanted = query.buckets ?? 1000;
  if (Date.now() - p.at > PRIME_TTL_MS || Math.abs(p.buckets - wanted) > PRIME_TOLERANCE * wanted) return undefined;
  return p.series;
}

/** Keys in as few chunks as the limits allow, of even sizes (9 keys: 3+3+3, not 4+4+1: the last answer comes sooner). */
function chunksOf(keys: string[], runCount: number): string[][] {
  const per = Math.max(1, Math.min(MAX_KEYS, Math.floor(MAX_SERIES / Math.max(1, runCount))));
  const count = Math.ceil(keys.length / per);
  const chunks: string[][] = [];
  for (let i = 0, from = 0; i < count; i++) {
    const to = from + Math.ceil((keys.length - from) / (count - i));
    chunks.push(keys.slice(from, to));
    from = to;
  }
  return chunks;
}

export function loadSeries(query: Omit<SeriesQuery, 'keys'>, key: string): Promise<MetricSeries[]> {
  const early = takePrimed(query, key);
  if (early) return early;
  const id = JSON.stringify([query.run_ids, query.x_axis, query.buckets, query.x_min, query.x_max]);
  let batch = pending.get(id);
  if (!batch) {
    batch = { query, waiters: [] };
    pending.set(id, batch);
    setTimeout(() => {
      pending.delete(id);
      void flush(batch!);
    }, WINDOW_MS);
  }
  return new Promise((resolve, reject) => batch!.waiters.push({ key, resolve, reject }));
}

async function flush(batch: Batch): Promise<void> {
  const keys = [...new Set(batch.waiters.map((w) => w.key))];
  await Promise.all(
    chunksOf(keys, batch.query.run_ids.length).map(async (chunk) => {
      const mine = batch.waiters.filter((w) => chunk.includes(w.key));
      try {
        const series = await metricSeries({ ...batch.query, keys: chunk });
        for (const w of mine) w.resolve(series.filter((s) => s.key === w.key));
      } catch (err) {
        for (const w of mine) w.reject(err);
      }
    }),
  );
}
