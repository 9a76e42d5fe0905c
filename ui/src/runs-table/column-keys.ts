import { useEffect, useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { experimentColumns, type ColumnKeys, type ViewType } from '../api/mlflow';
import type { Run } from '../api/types';

// The param, metric and tag keys of the shown experiments, for the column picker and the filter's
// completion. From Cairn's column listing when the server has it, else gathered from the runs loaded.

export function useColumnKeys(experimentIds: string[], viewType: ViewType, sample: () => Run[], sampleVersion: number): ColumnKeys & { partial: boolean } {
  const [listed, setListed] = useState<ColumnKeys | null | undefined>(undefined);
  const key = experimentIds.join(',') + viewType;
  useEffect(() => {
    let cancelled = false;
    setListed(undefined);
    experimentColumns(experimentIds, viewType).then(
      (r) => !cancelled && setListed(r),
      (err) => !cancelled && setListed(isMissingEndpoint(err) ? null : { params: [], metrics: [], tags: [], truncated: true }),
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const [fromRuns, setFromRuns] = useState<ColumnKeys>({ params: [], metrics: [], tags: [], truncated: false });
  useEffect(() => {
    if (listed !== null) return;
    const p = new Set<string>(), m = new Set<string>(), t = new Set<string>();
    for (const r of sample()) {
      r.data.params?.forEach((x) => p.add(x.key));
      r.data.metrics?.forEach((x) => m.add(x.key));
      r.data.tags?.forEach((x) => t.add(x.key));
    }
    const sort = (s: Set<string>) => [...s].sort();
    setFromRuns({ params: sort(p), metrics: sort(m), tags: sort(t), truncated: false });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [listed, sampleVersion]);
  if (listed) return { ...listed, partial: false };
  return { ...fromRuns, partial: listed === null };
}
