import { useEffect, useRef, useState } from 'react';
import type { ColumnKeys } from '../api/mlflow';
import { ATTRIBUTE_KEYS, columnFor, DEFAULT_COLUMNS } from './columns';

const METRIC_VARIANTS = [
  ['metric', 'last'],
  ['metric-min', 'min'],
  ['metric-max', 'max'],
] as const;

// Choose the table's columns among attributes and every param, metric and tag key.
export function ColumnPicker({ keys, columns, onChange }: { keys: ColumnKeys & { partial: boolean }; columns: string[]; onChange: (ids: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => !box.current?.contains(e.target as Node) && setOpen(false);
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);
  const chosen = new Set(columns);
  const toggle = (id: string) => onChange(chosen.has(id) ? columns.filter((c) => c !== id) : [...columns, id]);
  const match = (k: string) => !q || k.toLowerCase().includes(q.toLowerCase());
  // A metric is offered as its latest value and as the least and greatest value of its history.
  const metricGroup = (list: string[]) => {
    const shown = list.filter(match).slice(0, 300);
    if (!shown.length) return null;
    return (
      <div className="picker-group">
        <div className="picker-title">
          Metrics <span className="muted">{list.length}</span>
          <span className="picker-variants muted">last · min · max</span>
        </div>
        {shown.map((k) => (
          <div key={k} className="picker-item picker-metric" data-testid="picker-metric">
            <span className="picker-key" title={k}>{k}</span>
            {METRIC_VARIANTS.map(([kind, label]) => {
              const id = `${kind}:${k}`;
              return (
                <label key={kind} className="picker-variant" title={`${k}: ${label} value`}>
                  <input type="checkbox" aria-label={`${k} ${label}`} checked={chosen.has(id)} onChange={() => toggle(id)} />
                  {label}
                </label>
              );
            })}
          </div>
        ))}
      </div>
    );
  };
  const group = (title: string, kind: string, list: string[]) => {
    const shown = list.filter(match).slice(0, 300);
    if (!shown.length) return null;
    return (
      <div className="picker-group">
        <div className="picker-title">
          {title} <span className="muted">{list.length}</span>
        </div>
        {shown.map((k) => {
          const id = `${kind}:${k}`;
          return (
            <label key={id} className="picker-item">
              <input type="checkbox" checked={chosen.has(id)} onChange={() => toggle(id)} />
              <span>{kind === 'attr' ? columnFor(id)?.label : k}</span>
            </label>
          );
        })}
      </div>
    );
  };
  return (
    <div className="picker" ref={box}>
      <button className="btn" aria-expanded={open} onClick={() => setOpen(!open)}>
        Columns <span className="muted">{columns.length}</span>
      </button>
      {open && (
        <div className="popover picker-pop" role="dialog" aria-label="Choose columns">
          <div className="picker-head">
            <input className="input" autoFocus placeholder="Search keys" aria-label="Search columns" value={q} onChange={(e) => setQ(e.target.value)} />
            <button className="btn btn-sm" onClick={() => onChange(DEFAULT_COLUMNS)}>Reset</button>
          </div>
          {keys.partial && <div className="muted picker-note">Keys of the loaded runs.</div>}
          <div className="picker-body">
            {group('Attributes', 'attr', ATTRIBUTE_KEYS)}
            {metricGroup(keys.metrics)}
            {group('Parameters', 'param', keys.params)}
            {group('Tags', 'tag', keys.tags)}
          </div>
        </div>
      )}
    </div>
  );
}
