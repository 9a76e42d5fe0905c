import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import type { Run } from '../api/types';
import { href } from '../router';
import { nameOf, NAME_ORDER_KEY, type Column } from './columns';
import type { RunsData } from './data';

// The runs grid: rows and columns virtualized (only what is on screen is in the DOM), the selection
// box and run name pinned on the left, the header pinned on top. Sorting is the server's.

const ROW_H = 32;
const HEAD_H = 34;
const CHECK_W = 40;
const NAME_W = 240;
const PIN_W = CHECK_W + NAME_W;

const KIND_TITLES: Record<Column['kind'], string> = {
  attr: 'attribute',
  param: 'param',
  metric: 'metric (latest value)',
  'metric-min': 'metric (least value logged)',
  'metric-max': 'metric (greatest value logged)',
  tag: 'tag',
};

export interface TableProps {
  data: RunsData;
  columns: Column[];
  sort?: { key: string; desc: boolean };
  onSort: (orderKey: string) => void;
  selected: Set<string>;
  onSelect: (next: Set<string>) => void;
  active: number;
  onActive: (i: number) => void;
  experimentName: (id: string) => string;
}

export function RunsTable({ data, columns, sort, onSort, selected, onSelect, active, onActive, experimentName }: TableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const lastClicked = useRef<number>(-1);
  const rows = useVirtualizer({ count: data.rowCount, getScrollElement: () => scroller.current, estimateSize: () => ROW_H, overscan: 12, scrollMargin: HEAD_H });
  const cols = useVirtualizer({
    horizontal: true,
    count: columns.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => columns[i].width,
    overscan: 4,
    paddingStart: PIN_W,
  });
  useEffect(() => cols.measure(), [columns, cols]);
  const items = rows.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (data.rowCount) data.ensure(first, last);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [first, last, data.rowCount, data.version]);
  const totalWidth = PIN_W + columns.reduce((n, c) => n + c.width, 0);

  // Once per loaded page or selection change, not per scrolled frame (100,000 runs may be loaded).
  const allLoaded = useMemo(() => data.loaded().map((r) => r.info.run_id), [data.version, data.rowCount]);
  const allSelected = useMemo(() => allLoaded.length > 0 && allLoaded.every((id) => selected.has(id)), [allLoaded, selected]);

  const toggleRow = (i: number, shift: boolean) => {
    const r = data.row(i);
    if (!r) return;
    const next = new Set(selected);
    if (shift && lastClicked.current >= 0) {
      const on = !selected.has(r.info.run_id);
      for (let j = Math.min(i, lastClicked.current); j <= Math.max(i, lastClicked.current); j++) {
        const x = data.row(j);
        if (x) on ? next.add(x.info.run_id) : next.delete(x.info.run_id);
      }
    } else if (next.has(r.info.run_id)) next.delete(r.info.run_id);
    else next.add(r.info.run_id);
    lastClicked.current = i;
    onSelect(next);
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' && (e.target as HTMLInputElement).type !== 'checkbox') return;
    const n = data.rowCount;
    if (!n) return;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_H) - 2);
    const move = (to: number) => {
      e.preventDefault();
      const i = Math.max(0, Math.min(n - 1, to));
      onActive(i);
      rows.scrollToIndex(i, { align: 'auto' });
    };
    switch (e.key) {
      case 'ArrowDown': case 'j': return move(active + 1);
      case 'ArrowUp': case 'k': return move(active - 1);
      case 'PageDown': return move(active + page);
      case 'PageUp': return move(active - page);
      case 'Home': return move(0);
      case 'End': return move(n - 1);
      case ' ': case 'x':
        e.preventDefault();
        return toggleRow(Math.max(0, active), e.shiftKey);
      case 'Enter': {
        const r = data.row(active);
        if (r) window.location.href = href(`/experiments/${r.info.experiment_id}/runs/${r.info.run_id}`);
        return;
      }
    }
  };

  const sortMark = (key?: string) => (key && sort?.key === key ? (sort.desc ? ' ↓' : ' ↑') : '');
  const ariaSort = (key?: string) => (key && sort?.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none');

  return (
    <div
      ref={scroller}
      className="rt"
      role="grid"
      aria-rowcount={data.rowCount + 1}
      aria-colcount={columns.length + 2}
      aria-multiselectable
      tabIndex={0}
      data-testid="runs-grid"
      onKeyDown={onKey}
      onFocus={() => active < 0 && data.rowCount && onActive(0)}
    >
      <div style={{ width: totalWidth, minWidth: '100%', height: HEAD_H + rows.getTotalSize(), position: 'relative' }}>
        <div className="rt-head" role="row" aria-rowindex={1} style={{ width: totalWidth, minWidth: '100%', height: HEAD_H }}>
          <div className="rt-pin" style={{ width: PIN_W }}>
            <div className="rt-cell rt-check" role="columnheader" style={{ width: CHECK_W }}>
              <input
                type="checkbox"
                aria-label="Select all loaded runs"
                checked={allSelected}
                onChange={() => onSelect(allSelected ? new Set() : new Set([...selected, ...allLoaded]))}
              />
            </div>
            <div className="rt-cell" role="columnheader" aria-sort={ariaSort(NAME_ORDER_KEY)} style={{ width: NAME_W }}>
              <button className="rt-sort" onClick={() => onSort(NAME_ORDER_KEY)}>Run{sortMark(NAME_ORDER_KEY)}</button>
            </div>
          </div>
          {cols.getVirtualItems().map((vc) => {
            const c = columns[vc.index];
            return (
              <div
                key={c.id}
                className={`rt-cell rt-hcell kind-${c.kind}${c.numeric ? ' num' : ''}`}
                role="columnheader"
                aria-sort={ariaSort(c.orderKey)}
                data-col={c.id}
                style={{ position: 'absolute', left: vc.start, width: c.width, height: HEAD_H }}
                title={`${KIND_TITLES[c.kind]}: ${c.key}`}
              >
                {c.orderKey ? (
                  <button className="rt-sort" onClick={() => onSort(c.orderKey!)}>
                    {c.label}
                    {sortMark(c.orderKey)}
                  </button>
                ) : (
                  c.label
                )}
              </div>
            );
          })}
        </div>
        {items.map((vr) => {
          const r = data.row(vr.index);
          const isSel = !!r && selected.has(r.info.run_id);
          return (
            <div
              key={vr.key}
              role="row"
              aria-rowindex={vr.index + 2}
              aria-selected={isSel}
              data-testid={r ? 'run-row' : 'run-row-loading'}
              data-run-id={r?.info.run_id}
              className={`rt-row${isSel ? ' selected' : ''}${vr.index === active ? ' active' : ''}`}
              style={{ transform: `translateY(${vr.start}px)`, width: totalWidth, minWidth: '100%', height: ROW_H }}
              onMouseDown={() => onActive(vr.index)}
            >
              <div className="rt-pin" style={{ width: PIN_W }}>
                <div className="rt-cell rt-check" role="gridcell" style={{ width: CHECK_W }}>
                  {r && (
                    <input
                      type="checkbox"
                      aria-label={`Select ${nameOf(r)}`}
                      checked={isSel}
                      onChange={() => undefined}
                      onClick={(e) => toggleRow(vr.index, e.shiftKey)}
                    />
                  )}
                </div>
                <div className="rt-cell rt-name" role="gridcell" style={{ width: NAME_W }}>
                  {r ? <RunLink r={r} /> : <span className="rt-skeleton" />}
                </div>
              </div>
              {cols.getVirtualItems().map((vc) => {
                const c = columns[vc.index];
                const text = r ? c.text(r, { experimentName }) : '';
                return (
                  <div
                    key={c.id}
                    role="gridcell"
                    className={`rt-cell${c.numeric ? ' num' : ''}`}
                    data-col={c.id}
                    style={{ position: 'absolute', left: vc.start, width: c.width, height: ROW_H }}
                    title={text}
                  >
                    {!r ? null : c.id === 'attr:status' ? <span className={`badge status-${text.toLowerCase()}`}>{text}</span> : <span className="rt-text">{text}</span>}
                  </div>
                );
              })}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function RunLink({ r }: { r: Run }) {
  return (
    <a href={href(`/experiments/${r.info.experiment_id}/runs/${r.info.run_id}`)} tabIndex={-1} title={r.info.run_id}>
      {nameOf(r)}
    </a>
  );
}
