import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { fmtMs, type Span } from '../../api/traces';
import type { Row } from './span-tree';

// A trace's span tree as a waterfall: each span's bar placed and sized on the trace's time axis.
// Only the rows on screen are in the page (a trace may hold 10,000 spans), in a list that scrolls
// by itself past a screenful. A span's subtree folds under its chevron; ↑/↓ move along the tree,
// Home/End go to its ends, ← folds a span or goes to its parent, → unfolds it.

const ROW_H = 30;
// Deeper spans are indented no further, so a long chain keeps its names in view.
const MAX_INDENT = 24;

export const msBetween = (a: bigint, b: bigint) => Number(b - a) / 1e6;

export function Waterfall(props: {
  rows: Row<Span>[];
  folded: ReadonlySet<string>;
  /** Spans the find box matches, marked in the tree. */
  matched: ReadonlySet<string>;
  /** Shown above the tree's header (the find box). */
  toolbar?: React.ReactNode;
  chosenAt: number;
  start: bigint;
  total: number;
  onSelect: (id: string) => void;
  onFold: (id: string, on: boolean) => void;
}) {
  const { rows, folded, matched, toolbar, chosenAt, start, total, onSelect, onFold } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_H, overscan: 16 });
  // The row the keys moved to gets the focus once it is rendered (it may have been scrolled in).
  const focusNext = useRef(false);
  const chosenId = rows[chosenAt]?.span.id;
  // The chosen span is scrolled into the list's view, however it was chosen (keys, a link's
  // `?span=`, the find box).
  useEffect(() => {
    if (chosenId) virt.scrollToIndex(chosenAt, { align: 'auto' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chosenId]);
  useEffect(() => {
    if (!focusNext.current || !chosenId) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-span-id="${chosenId}"]`);
    if (!el) return; // not rendered yet: the scroll to it renders it, and this runs again
    focusNext.current = false;
    el.focus({ preventScroll: true });
  });
  const onKey = (e: KeyboardEvent) => {
    const row = rows[chosenAt];
    if (!row) return;
    const to = (i: number) => {
      const at = Math.min(rows.length - 1, Math.max(0, i));
      focusNext.current = true;
      // Scrolled here as well as by the chosen-span effect: the row is then rendered in the same
      // commit as the choice, so the focus moves with it before the next key arrives.
      virt.scrollToIndex(at, { align: 'auto' });
      onSelect(rows[at].span.id);
    };
    if (e.key === 'ArrowDown') to(chosenAt + 1);
    else if (e.key === 'ArrowUp') to(chosenAt - 1);
    else if (e.key === 'Home') to(0);
    else if (e.key === 'End') to(rows.length - 1);
    else if (e.key === 'ArrowLeft' && row.hasChildren && !folded.has(row.span.id)) onFold(row.span.id, true);
    else if (e.key === 'ArrowLeft' && row.depth > 0) {
      let parent = chosenAt - 1;
      while (parent > 0 && rows[parent].depth >= row.depth) parent--;
      to(parent);
    } else if (e.key === 'ArrowRight' && folded.has(row.span.id)) onFold(row.span.id, false);
    else return;
    e.preventDefault();
  };

  return (
    <section className="card waterfall" aria-label="Spans">
      {toolbar}
      <div className="waterfall-head">
        <span>Span</span>
        <span className="waterfall-scale"><span>0</span><span>{fmtMs(total / 2)}</span><span>{fmtMs(total)}</span></span>
        <span className="waterfall-ms">Duration</span>
      </div>
      {rows.length === 0 && <p className="muted">This trace has no spans stored (yet).</p>}
      <div className="waterfall-scroll" ref={scroller} data-testid="span-tree">
        <ul className="waterfall-rows" role="tree" onKeyDown={onKey} style={{ height: virt.getTotalSize() }}>
          {virt.getVirtualItems().map((item) => {
            const { span, depth, hasChildren } = rows[item.index];
            const left = (msBetween(start, span.startNs) / total) * 100;
            const width = span.endNs === undefined ? 100 - left : Math.max((msBetween(span.startNs, span.endNs) / total) * 100, 0.4);
            const isOn = item.index === chosenAt;
            return (
              <li
                key={span.id}
                role="treeitem"
                aria-selected={isOn}
                aria-level={depth + 1}
                aria-expanded={hasChildren ? !folded.has(span.id) : undefined}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <button className={`waterfall-row${isOn ? ' on' : ''}${matched.has(span.id) ? ' match' : ''}`} data-testid="span-row" data-span-id={span.id} tabIndex={isOn ? 0 : -1} onClick={() => onSelect(span.id)}>
                  <span className="waterfall-name" style={{ paddingLeft: `${Math.min(depth, MAX_INDENT) * 14}px` }}>
                    <span
                      className={`fold${hasChildren ? '' : ' leaf'}`}
                      data-testid={hasChildren ? 'span-fold' : undefined}
                      aria-hidden="true"
                      onClick={(e) => {
                        if (!hasChildren) return;
                        e.stopPropagation();
                        onFold(span.id, !folded.has(span.id));
                      }}
                    >
                      {hasChildren ? (folded.has(span.id) ? '▸' : '▾') : ''}
                    </span>
                    {span.type && span.type !== 'UNKNOWN' && <span className={`span-type t-${span.type.toLowerCase()}`}>{span.type}</span>}
                    <span className="span-name">{span.name}</span>
                  </span>
                  <span className="waterfall-track">
                    <span className={`waterfall-bar s-${span.status.toLowerCase()}`} style={{ left: `${left}%`, width: `${width}%` }} />
                  </span>
                  <span className="waterfall-ms" data-testid="span-duration">{span.endNs === undefined ? 'open' : fmtMs(msBetween(span.startNs, span.endNs))}</span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}
