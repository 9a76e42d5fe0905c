import { useMemo, useState } from 'react';
import { ChartToolbar } from '../../charts/chart-toolbar';
import { MetricChart, type ChartRun } from '../../charts/metric-chart';
import type { ChartSettings } from '../../charts/settings';
import { Empty } from '../../components/states';

// A grid of metric charts, grouped into sections by key prefix (`train/loss` under "train") as W&B
// does, with a filter over keys and the page's shared chart settings.

export function sectionOf(key: string, system: boolean): string {
  const k = system ? key.replace(/^system\//, '') : key;
  const i = k.indexOf('/');
  return i > 0 ? k.slice(0, i) : system ? 'System' : 'Charts';
}

/** The grid's sections in display order, each with its keys in display order (filtered by `filter`). */
export function chartSections(keys: string[], system: boolean, filter = ''): [string, string[]][] {
  const query = filter.trim().toLowerCase();
  const m = new Map<string, string[]>();
  for (const k of keys) {
    if (query && !k.toLowerCase().includes(query)) continue;
    const s = sectionOf(k, system);
    m.set(s, [...(m.get(s) ?? []), k]);
  }
  for (const ks of m.values()) ks.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return [...m.entries()].sort(([a], [b]) => (a === 'Charts' ? -1 : b === 'Charts' ? 1 : a.localeCompare(b)));
}

export function ChartsGrid({ keys, runs, settings, onSettings, system = false, emptyHint }: {
  keys: string[];
  runs: ChartRun[];
  settings: ChartSettings;
  onSettings: (s: ChartSettings) => void;
  system?: boolean;
  emptyHint?: React.ReactNode;
}) {
  const [q, setQ] = useState('');
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const sections = useMemo(() => chartSections(keys, system, q), [keys, q, system]);
  if (!keys.length) return <Empty title={system ? 'No system metrics' : 'No metrics logged'}>{emptyHint}</Empty>;
  return (
    <div className="charts-tab">
      <ChartToolbar settings={settings} onChange={onSettings}>
        <input className="input chart-filter" placeholder={`Filter ${keys.length} metrics…`} aria-label="Filter metrics" value={q} onChange={(e) => setQ(e.target.value)} />
      </ChartToolbar>
      {sections.map(([name, ks]) => (
        <section key={name} className="chart-section">
          <button
            className="section-head"
            aria-expanded={!collapsed.has(name)}
            onClick={() => {
              const n = new Set(collapsed);
              if (n.has(name)) n.delete(name);
              else n.add(name);
              setCollapsed(n);
            }}
          >
            <span className={`caret${collapsed.has(name) ? '' : ' open'}`}>▸</span> {name} <span className="ptree-count">{ks.length}</span>
          </button>
          {!collapsed.has(name) && (
            <div className="chart-grid">
              {ks.map((k) => (
                <MetricChart key={k} metricKey={k} runs={runs} settings={settings} title={system ? k.replace(/^system\//, '') : undefined} />
              ))}
            </div>
          )}
        </section>
      ))}
      {!sections.length && <div className="muted">No metric matches “{q}”.</div>}
    </div>
  );
}
