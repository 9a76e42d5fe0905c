import { readAnswer } from './client';

// When the page is opened on a run's URL, a few lines in index.html send its `runs/get` before the
// app's script has even loaded (the script is ~400 KB to fetch and parse; the run is what the page
// needs first). The run page takes that answer instead of asking again: once, and only for that run.

interface Prefetched {
  runId: string;
  res: Promise<Response>;
}

declare global {
  interface Window {
    __cairnRunPrefetch?: Prefetched;
  }
}

/** The prefetched `runs/get` answer for this run, or undefined (taken once; any other run clears it). */
export function takePrefetchedRun<T>(runId: string): Promise<T> | undefined {
  const p = window.__cairnRunPrefetch;
  if (!p) return undefined;
  delete window.__cairnRunPrefetch;
  if (p.runId !== runId) {
    p.res.catch(() => undefined);
    return undefined;
  }
  return readAnswer<T>(p.res, '2.0/mlflow/runs/get');
}
