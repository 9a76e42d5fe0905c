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

export function loadSeries(query: Omit<SeriesQuery, 'keys'>, key: string): Promise<MetricSeries[]> {
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
  const per = Math.max(1, Math.min(MAX_KEYS, Math.floor(MAX_SERIES / Math.max(1, batch.query.run_ids.length))));
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += per) chunks.push(keys.slice(i, i + per));
  await Promise.all(
    chunks.map(async (chunk) => {
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
