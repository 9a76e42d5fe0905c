import { useState } from 'react';
import type { Run } from '../../api/types';
import { runName } from '../../api/types';
import { axisOf, valueOf, type Column } from './values';

// Parallel coordinates: one vertical axis per chosen param or metric, one polyline per run in its
// colour. Hovering a line brings its run forward and names it.

const H = 300;
const PAD = { top: 28, bottom: 34, side: 60 };

export function ParallelCoords({ runs, colors, columns }: { runs: Run[]; colors: string[]; columns: Column[] }) {
  const [hot, setHot] = useState<number | null>(null);
  const width = Math.max(480, columns.length * 150);
  if (columns.length < 2) return <div className="muted">Choose at least two columns.</div>;
  const axes = columns.map((c) => ({ c, ...axisOf(runs.map((r) => valueOf(r, c))) }));
  const x = (i: number) => PAD.side + (i * (width - 2 * PAD.side)) / (columns.length - 1);
  const y = (t: number) => PAD.top + (1 - t) * (H - PAD.top - PAD.bottom);
  return (
    <div className="pc-wrap">
      <svg className="pc" viewBox={`0 0 ${width} ${H}`} width="100%" height={H} preserveAspectRatio="none" data-testid="parallel-coords" role="img" aria-label="Parallel coordinates">
        {axes.map((a, i) => (
          <g key={a.c.id}>
            <line x1={x(i)} x2={x(i)} y1={PAD.top} y2={H - PAD.bottom} className="pc-axis" />
            <text x={x(i)} y={H - 12} textAnchor="middle" className={`pc-title ${a.c.kind}`}>
              {a.c.key.length > 22 ? `…${a.c.key.slice(-21)}` : a.c.key}
            </text>
            {a.ticks.map((t) => (
              <text key={t.label + t.at} x={x(i) - 6} y={y(t.at) + 3} textAnchor="end" className="pc-tick">
                {t.label}
              </text>
            ))}
          </g>
        ))}
        {runs.map((r, k) => {
          const pts = axes.map((a, i) => {
            const p = a.pos(valueOf(r, a.c));
            return p === undefined ? null : `${x(i)},${y(p)}`;
          });
          const d = pts.filter(Boolean).join(' ');
          return (
            <polyline
              key={r.info.run_id}
              points={d}
              className="pc-line"
              data-testid="pc-line"
              stroke={colors[k]}
              strokeWidth={hot === k ? 3.5 : 2}
              opacity={hot === null || hot === k ? 0.95 : 0.2}
              onMouseEnter={() => setHot(k)}
              onMouseLeave={() => setHot(null)}
            >
              <title>{runName(r)}</title>
            </polyline>
          );
        })}
      </svg>
      <div className="pc-hint muted">{hot !== null ? runName(runs[hot]) : 'Hover a line to see its run.'}</div>
    </div>
  );
}
