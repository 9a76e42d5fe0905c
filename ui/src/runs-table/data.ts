import { useCallback, useEffect, useRef, useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { searchRunsOffset, searchRunsPage, type RunsQuery } from '../api/mlflow';
import type { Run } from '../api/types';

// Rows for the virtualized runs table, fetched a page at a time as they scroll into view.
// Cairn's UI search gives random access by offset and the total, so a jump to row 90,000 costs one
// request. Against a server without it, MLflow's page tokens allow only sequential reading: pages
// load in order up to the one needed, and the row count grows as they arrive.

export const PAGE = 200;
/** Requests in flight at once: a fast scroll across 100,000 rows must not queue a request per page passed. */
const CONCURRENT = 2;
/** Pages kept in memory (offset mode): the farthest from the view are dropped and fetched again if needed. */
const KEPT_PAGES = 50;

export interface RunsData {
  rowCount: number;
  total?: number;
  row: (i: number) => Run | undefined;
  /** Every run loaded so far, in row order. */
  loaded: () => Run[];
  ensure: (start: number, end: number) => void;
  error?: Error;
  loading: boolean;
  sequential: boolean;
  version: number;
  reload: () => void;
}

let offsetMissing = false;

function evict(s: { pages: Map<number, Run[]>; want: number[] }) {
  while (s.pages.size > KEPT_PAGES) {
    let far = -1;
    let dist = -1;
    for (const p of s.pages.keys()) {
      const d = p < s.want[0] ? s.want[0] - p : p > s.want[1] ? p - s.want[1] : 0;
      if (d > dist) [far, dist] = [p, d];
    }
    if (dist <= 1) return;
    s.pages.delete(far);
  }
}

export function useRunsData(q: RunsQuery): RunsData {
  const key = JSON.stringify(q);
  const fresh = (k: string) => ({ key: k, pages: new Map<number, Run[]>(), inflight: new Set<number>(), queue: [] as number[], want: [0, 0], total: undefined as number | undefined, tokens: [undefined] as (string | undefined)[], done: false });
  const state = useRef(fresh(''));
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<Error>();
  const [sequential, setSequential] = useState(offsetMissing);
  const [reloads, setReloads] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  if (state.current.key !== key + reloads) {
    state.current = fresh(key + reloads);
  }

  const loadPage = useCallback(
    async (p: number) => {
      const s = state.current;
      if (s.pages.has(p) || s.inflight.has(p)) return;
      s.inflight.add(p);
      try {
        if (!offsetMissing) {
          try {
            const r = await searchRunsOffset(q, p * PAGE, PAGE);
            if (state.current !== s) return;
            const ranges = r.metric_ranges;
            s.pages.set(p, ranges ? (r.runs ?? []).map((run) => ({ ...run, ranges: ranges[run.info.run_id] })) : (r.runs ?? []));
            evict(s);
            s.total = r.total_count;
            setError(undefined);
            bump();
            return;
          } catch (err) {
            if (!isMissingEndpoint(err)) throw err;
            offsetMissing = true;
            setSequential(true);
          }
        }
        // Sequential: every page before p first.
        for (let i = 0; i <= p && !s.done; i++) {
          if (s.pages.has(i)) continue;
          const r = await searchRunsPage(q, PAGE, s.tokens[i]);
          if (state.current !== s) return;
          s.pages.set(i, r.runs ?? []);
          s.tokens[i + 1] = r.next_page_token || undefined;
          if (!r.next_page_token) {
            s.done = true;
            s.total = i * PAGE + (r.runs?.length ?? 0);
          }
          bump();
        }
      } catch (err) {
        if (state.current === s) setError(err as Error);
      } finally {
        s.inflight.delete(p);
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key, reloads],
  );

  // Queued pages start when a request slot frees, if they are still on screen (or next to it).
  // Through a ref: a request of an earlier query that ends must start the current query's pages.
  const load = useRef(loadPage);
  load.current = loadPage;
  const pump = useCallback(() => {
    const s = state.current;
    while (s.inflight.size < CONCURRENT && s.queue.length) {
      const p = s.queue.shift()!;
      if (p < s.want[0] - 1 || p > s.want[1] + 1 || s.pages.has(p)) continue;
      void load.current(p).finally(pump);
    }
  }, []);

  useEffect(() => {
    setError(undefined);
    void loadPage(0);
  }, [loadPage]);

  const s = state.current;
  const loadedRows = [...s.pages.values()].reduce((n, p) => n + p.length, 0);
  const rowCount = s.total ?? (s.pages.size ? loadedRows + (s.done ? 0 : PAGE) : 0);
  return {
    rowCount,
    total: s.total,
    row: (i) => s.pages.get(Math.floor(i / PAGE))?.[i % PAGE],
    loaded: () => [...s.pages.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, p]) => p),
    ensure: (start, end) => {
      const first = Math.floor(start / PAGE);
      const last = Math.floor(Math.max(start, end) / PAGE);
      s.want = [first, last];
      for (let p = first; p <= last; p++) if (!s.pages.has(p) && !s.inflight.has(p) && !s.queue.includes(p)) s.queue.push(p);
      pump();
    },
    error,
    loading: !s.pages.has(0) && !error,
    sequential,
    version,
    reload: () => setReloads((r) => r + 1),
  };
}
