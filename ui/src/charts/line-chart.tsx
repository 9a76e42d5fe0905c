import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNumber } from '../format';
import { withAlpha } from './palette';
import { fmtSeconds, type XAxisKind } from './settings';
import { ema } from './smooth';
import { useCanvasColors } from './theme-colors';

// One uPlot line chart: any number of lines (runs) over a shared x, each with an optional min/max
// band and EMA smoothing (the raw line stays, faint, under the smoothed one). Dragging selects an x
// range and hands it to `onZoom` (the caller re-queries the server for that range, so zooming
// refines rather than magnifies); a double click resets.

export interface ChartLine {
  id: string;
  label: string;
  color: string;
  x: number[];
  y: (number | null)[];
  lo?: (number | null)[];
  hi?: (number | null)[];
}

export interface LineChartProps {
  lines: ChartLine[];
  xKind: XAxisKind;
  smoothing: number;
  log: boolean;
  band: boolean;
  height?: number;
  onZoom?: (min: number, max: number) => void;
  onReset?: () => void;
  onWidth?: (w: number) => void;
}

interface Layout {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  /** Index in `series` of each line's main (drawn, hovered) series. */
  main: { line: ChartLine; idx: number }[];
}

function clean(ys: (number | null)[], log: boolean): (number | null)[] {
  return ys.map((y) => (y === null || !Number.isFinite(y) || (log && y <= 0) ? null : y));
}

function layout(lines: ChartLine[], smoothing: number, log: boolean, band: boolean): Layout {
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  const main: Layout['main'] = [];
  for (const line of lines) {
    if (!line.x.length) continue;
    const cols: (number | null)[][] = [];
    const raw = clean(line.y, log);
    const smoothed = smoothing > 0 ? ema(raw, smoothing) : raw;
    const base = series.length;
    cols.push(smoothed);
    // A line of a few points (a metric logged once) would not show at all without its dots.
    // Counted without gaps: a line of one value among empty buckets is a dot too.
    const shown = line.y.reduce<number>((n, y) => (y === null ? n : n + 1), 0);
    series.push({ label: line.label, stroke: line.color, width: 1.6, spanGaps: true, points: { show: shown <= 3, size: 7, fill: line.color } });
    main.push({ line, idx: base });
    if (smoothing > 0) {
      cols.push(raw);
      series.push({ label: `${line.label} (raw)`, stroke: withAlpha(line.color, 0.28), width: 1, spanGaps: true, points: { show: false } });
    }
    const hasBand = band && line.lo && line.hi && line.lo.some((v, i) => v !== line.hi![i]);
    if (hasBand) {
      const hiIdx = series.length;
      cols.push(clean(line.hi!, log), clean(line.lo!, log));
      // The edges are drawn faintly too: a spike one pixel column wide has no area to fill, but
      // its max edge still reaches up to it.
      const edge = withAlpha(line.color, 0.4);
      series.push({ label: `${line.label} max`, stroke: edge, width: 1, spanGaps: true, points: { show: false } });
      series.push({ label: `${line.label} min`, stroke: edge, width: 1, spanGaps: true, points: { show: false } });
      bands.push({ series: [hiIdx, hiIdx + 1], fill: withAlpha(line.color, 0.18) });
    }
    tables.push([line.x, ...cols] as uPlot.AlignedData);
  }
  const data = tables.length === 0 ? ([[]] as unknown as uPlot.AlignedData) : tables.length === 1 ? tables[0] : uPlot.join(tables);
  return { data, series, bands, main };
}

/** Axis ticks: 200k, 1.5M rather than 200000, 1500000. */
export function fmtTick(v: number | null): string {
  // uPlot passes null for ticks a log axis leaves unlabelled.
  if (v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(3))}B`;
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function fmtX(kind: XAxisKind, v: number): string {
  if (kind === 'relative') return fmtSeconds(v);
  if (kind === 'time') return new Date(v * 1000).toLocaleString();
  return fmtNumber(v);
}

interface Hover {
  left: number;
  top: number;
  x: string;
  rows: { label: string; color: string; value: string }[];
}

export function LineChart({ lines, xKind, smoothing, log, band, height = 220, onZoom, onReset, onWidth }: LineChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<Hover | null>(null);
  const colors = useCanvasColors();
  const lay = useMemo(() => layout(lines, smoothing, log, band), [lines, smoothing, log, band]);
  const cb = useRef({ onZoom, onReset, lay, xKind });
  cb.current = { onZoom, onReset, lay, xKind };

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    ro.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    if (width > 0) onWidth?.(width);
  }, [width, onWidth]);

  // The plot is rebuilt when its shape changes (series, scales, theme); data alone is set in place.
  const shape = `${lay.series.map((s) => `${s.label}|${String(s.stroke)}`).join(',')}|${xKind}|${log}|${colors.fg}|${lay.bands.length}`;
  useEffect(() => {
    const el = host.current;
    if (!el || width <= 0) return;
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({
      stroke: colors.muted,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1, size: 4 },
      font: '11px Inter Variable, system-ui, sans-serif',
      ...extra,
    });
    const opts: uPlot.Options = {
      width,
      height,
      series: cb.current.lay.series,
      bands: cb.current.lay.bands,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // Hover dots only on the runs' lines, not on band edges or faint raw lines.
        points: { size: (_u, si) => (cb.current.lay.main.some((m) => m.idx === si) ? 7 : 0) },
        focus: { prox: 24 },
      },
      focus: { alpha: 0.35 },
      scales: {
        x: { time: xKind === 'time' },
        y: log ? { distr: 3 } : {},
      },
      axes: [
        // Wall-clock ticks take two lines (date, then year or time of day).
        axis({ size: xKind === 'time' ? 44 : 28, ...(xKind === 'relative' ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => (v == null ? '' : fmtSeconds(v))) } : xKind === 'step' ? { values: (_u: uPlot, vals: number[]) => vals.map(fmtTick) } : {}) }),
        axis({
          values: (_u, vals) => vals.map(fmtTick),
          // As wide as the longest label, so 3.0e-4 or 1.25M are never clipped.
          // (A log axis leaves some ticks unlabelled: null.)
          size: (_u, vals) => (vals?.length ? Math.max(36, Math.ceil(Math.max(...vals.map((v) => (v == null ? 0 : String(v).length))) * 6.4) + 14) : 36),
        }),
      ],
      hooks: {
        setSelect: [
          (u) => {
            const { left, width: w } = u.select;
            if (w > 2) {
              const a = u.posToVal(left, 'x');
              const b = u.posToVal(left + w, 'x');
              cb.current.onZoom?.(a, b);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i === null || i === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
              setHover(null);
              return;
            }
            const xv = u.data[0][i];
            const rows = cb.current.lay.main
              .map(({ line, idx }) => ({ label: line.label, color: line.color, v: u.data[idx]?.[i] }))
              .filter((r) => r.v !== null && r.v !== undefined)
              .map((r) => ({ label: r.label, color: r.color, value: fmtNumber(r.v as number) }));
            setHover({ left: u.cursor.left!, top: u.cursor.top ?? 0, x: fmtX(cb.current.xKind, xv), rows });
          },
        ],
      },
    };
    const u = new uPlot(opts, cb.current.lay.data, el);
    plot.current = u;
    const dbl = () => cb.current.onReset?.();
    u.over.addEventListener('dblclick', dbl);
    return () => {
      u.over.removeEventListener('dblclick', dbl);
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, width, height]);

  useEffect(() => {
    const u = plot.current;
    if (u && u.series.length === lay.series.length) u.setData(lay.data);
  }, [lay]);

  return (
    <div className="line-chart" style={{ height }}>
      <div ref={host} className="line-chart-host" />
      {hover && hover.rows.length > 0 && (
        <div className="chart-tip" style={{ left: Math.min(hover.left + 14, Math.max(0, width - 220)), top: Math.max(0, hover.top - 10) }}>
          <div className="chart-tip-x">{hover.x}</div>
          {hover.rows.slice(0, 10).map((r, i) => (
            <div key={i} className="chart-tip-row">
              <span className="swatch" style={{ background: r.color }} />
              <span className="chart-tip-label">{r.label}</span>
              <span className="mono">{r.value}</span>
            </div>
          ))}
          {hover.rows.length > 10 && <div className="muted">+{hover.rows.length - 10} more</div>}
        </div>
      )}
    </div>
  );
}
