import { useCallback, useEffect, useRef, useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { searchRunsOffset, searchRunsPage, type RunsQuery } from '../api/mlflow';
import type { Run } from '../api/types';

// Rows for the virtualized runs table, fetched a page at a time as they scroll into view.
// Cairn's UI search gives random access by offset and the total, so a jump to row 90,000 costs one
// request. Against a server without it, MLflow's page tokens allow only sequential reading: pages
// load in order up to the one needed, and the row count grows as they arrive.

export const PAGE = 200;

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

export function useRunsData(q: RunsQuery): RunsData {
  const key = JSON.stringify(q);
  const state = useRef({ key: '', pages: new Map<number, Run[]>(), inflight: new Set<number>(), total: undefined as number | undefined, tokens: [undefined] as (string | undefined)[], done: false });
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<Error>();
  const [sequential, setSequential] = useState(offsetMissing);
  const [reloads, setReloads] = useState(0);
  const bump = () => setVersion((v) => v + 1);

  if (state.current.key !== key + reloads) {
    state.current = { key: key + reloads, pages: new Map(), inflight: new Set(), total: undefined, tokens: [undefined], done: false };
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
      for (let p = Math.floor(start / PAGE); p <= Math.floor(Math.max(start, end) / PAGE); p++) void loadPage(p);
    },
    error,
    loading: !s.pages.has(0) && !error,
    sequential,
    version,
    reload: () => setReloads((r) => r + 1),
  };
}
