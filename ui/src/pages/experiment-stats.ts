import { useEffect, useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { searchRunsOffset, searchRunsPage, type ViewType } from '../api/mlflow';

export interface ExperimentStats {
  count?: number;
  countCapped?: boolean;
  lastRun?: number;
}

// Per-experiment run count and latest run start, for the experiments list: one small search each
// (the newest run, and the total from Cairn's UI search), a few at a time, cached for the session.
const cache = new Map<string, ExperimentStats>();
let offsetSearchMissing = false;
const FALLBACK_PAGES = 5;

async function load(id: string, viewType: ViewType): Promise<ExperimentStats> {
  const q = { experimentIds: [id], filter: '', viewType, orderBy: ['attributes.start_time DESC'] };
  if (!offsetSearchMissing) {
    try {
      const r = await searchRunsOffset(q, 0, 1);
      return { count: r.total_count, lastRun: Number(r.runs?.[0]?.info.start_time ?? 0) };
    } catch (err) {
      if (!isMissingEndpoint(err)) throw err;
      offsetSearchMissing = true;
    }
  }
  // Without it, count by paging MLflow's search, up to a cap shown as "N+".
  let count = 0;
  let lastRun = 0;
  let token: string | undefined;
  for (let page = 0; page < FALLBACK_PAGES; page++) {
    const r = await searchRunsPage(q, 1000, token);
    if (page === 0) lastRun = Number(r.runs?.[0]?.info.start_time ?? 0);
    count += r.runs?.length ?? 0;
    token = r.next_page_token || undefined;
    if (!token) return { count, lastRun };
  }
  return { count, countCapped: true, lastRun };
}

export function useExperimentStats(ids: string[], viewType: ViewType): Record<string, ExperimentStats> {
  const [stats, setStats] = useState<Record<string, ExperimentStats>>({});
  const key = ids.join(',') + viewType;
  useEffect(() => {
    let cancelled = false;
    const todo = ids.filter((id) => !cache.has(`${viewType}:${id}`));
    const publish = () => !cancelled && setStats(Object.fromEntries(ids.filter((id) => cache.has(`${viewType}:${id}`)).map((id) => [id, cache.get(`${viewType}:${id}`)!])));
    publish();
    let next = 0;
    const worker = async () => {
      while (!cancelled && next < todo.length) {
        const id = todo[next++];
        try {
          cache.set(`${viewType}:${id}`, await load(id, viewType));
        } catch {
          cache.set(`${viewType}:${id}`, {});
        }
        publish();
      }
    };
    void Promise.all([worker(), worker(), worker(), worker()]);
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return stats;
}

export function invalidateExperimentStats() {
  cache.clear();
}
