import { useCallback, useEffect, useRef, useState } from 'react';
import { type MetricSeries } from '../api/ui';
import { loadSeries } from './series-batch';
import { ErrorBox } from '../components/states';
import { fmtNumber } from '../format';
import { LineChart, type ChartLine } from './line-chart';
import type { ChartSettings } from './settings';

// A chart card for one metric over one or several runs. It asks the server for about one point per
// pixel column (min/max kept per column), asks again for the selected x range when zoomed, and
// polls while a run is running. It loads only once scrolled into view, so a page of many metrics
// costs what is on screen.
//
// A poll is scheduled only once the previous load has answered, and waits at least twice as long as
// that load took: a fixed interval let polls overlap on a slow store (embedded PGlite runs one query
// at a time), each poll superseded the load before it, and a big running run never drew at all.

export interface ChartRun {
  id: string;
  name: string;
  color: string;
  /** ms since the epoch: the zero of the relative-time axis. */
  startTime: number;
  running: boolean;
}

const POLL_MS = 5000;

/** The series' bucket count for a plot this wide: one per pixel column, within the API's limits. */
export const bucketsFor = (width: number) => Math.max(50, Math.min(5000, Math.round(width)));

const num = (v: number | string): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Server series -> chart lines in the axis' units (seconds for time axes). */
export function toLines(runs: ChartRun[], series: MetricSeries[], xAxis: ChartSettings['xAxis']): ChartLine[] {
  const out: ChartLine[] = [];
  for (const run of runs) {
    const s = series.find((x) => x.run_id === run.id);
    if (!s) continue;
    const x: number[] = [];
    const y: (number | null)[] = [];
    const lo: (number | null)[] = [];
    const hi: (number | null)[] = [];
    for (const p of s.points) {
      const xv = xAxis === 'step' ? p.x : xAxis === 'time' ? p.x / 1000 : (p.x - run.startTime) / 1000;
      // uPlot.join needs strictly increasing x: a repeated x keeps its last point.
      if (x.length && xv <= x[x.length - 1]) {
        if (xv < x[x.length - 1]) continue;
        x.pop(), y.pop(), lo.pop(), hi.pop();
      }
      x.push(xv);
      y.push(num(p.value));
      lo.push(num(p.min));
      hi.push(num(p.max));
    }
    out.push({ id: run.id, label: run.name, color: run.color, x, y, lo, hi });
  }
  return out;
}

function useInView<T extends Element>(): [React.RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || seen) return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: '300px' });
    io.observe(el);
    return () => io.disconnect();
  }, [seen]);
  return [ref, seen];
}

export function MetricChart({ metricKey, runs, settings, height = 220, title }: { metricKey: string; runs: ChartRun[]; settings: ChartSettings; height?: number; title?: string }) {
  const [ref, inView] = useInView<HTMLDivElement>();
  const [width, setWidth] = useState(0);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [series, setSeries] = useState<MetricSeries[] | null>(null);
  const [error, setError] = useState<unknown>();
  const [tick, setTick] = useState(0);
  // Loads answered (or failed) so far, and how long the last one took: the next poll waits on them.
  const [answered, setAnswered] = useState(0);
  const lastLoadMs = useRef(0);
  const seq = useRef(0);
  const live = runs.some((r) => r.running);
  const runKey = runs.map((r) => r.id).join(',');

  // A new axis makes the zoom meaningless.
  useEffect(() => setZoom(null), [settings.xAxis]);

  useEffect(() => {
    if (!inView || width <= 0 || !runs.length) return;
    const mine = ++seq.current;
    const buckets = bucketsFor(width);
    const xAxis = settings.xAxis === 'step' ? 'step' : 'timestamp';
    const ids = runs.map((r) => r.id);
    const load = async (): Promise<MetricSeries[]> => {
      if (!zoom) return loadSeries({ run_ids: ids, x_axis: xAxis, buckets }, metricKey);
      if (settings.xAxis === 'step') return loadSeries({ run_ids: ids, x_axis: 'step', buckets, x_min: Math.floor(zoom[0]), x_max: Math.ceil(zoom[1]) }, metricKey);
      if (settings.xAxis === 'time') return loadSeries({ run_ids: ids, x_axis: 'timestamp', buckets, x_min: Math.floor(zoom[0] * 1000), x_max: Math.ceil(zoom[1] * 1000) }, metricKey);
      // Relative time: each run's range starts at its own start time.
      const parts = await Promise.all(
        runs.map((r) => loadSeries({ run_ids: [r.id], x_axis: 'timestamp', buckets, x_min: Math.floor(r.startTime + zoom[0] * 1000), x_max: Math.ceil(r.startTime + zoom[1] * 1000) }, metricKey)),
      );
      return parts.flat();
    };
    const started = performance.now();
    const done = () => {
      lastLoadMs.current = performance.now() - started;
      setAnswered((n) => n + 1);
    };
    load().then(
      (s) => {
        if (mine !== seq.current) return;
        setSeries(s);
        setError(undefined);
        done();
      },
      (e) => {
        if (mine !== seq.current) return;
        setError(e);
        done();
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [inView, width > 0 ? Math.round(width / 100) : 0, runKey, metricKey, settings.xAxis, zoom, tick]);

  useEffect(() => {
    if (!live || zoom || !inView || answered === 0) return;
    const t = setTimeout(() => setTick((n) => n + 1), Math.max(POLL_MS, 2 * lastLoadMs.current));
    return () => clearTimeout(t);
  }, [live, zoom, inView, answered]);

  const onWidth = useCallback((w: number) => setWidth(w), []);
  const lines = series ? toLines(runs, series, settings.xAxis) : [];
  const total = series?.reduce((n, s) => n + s.total_points, 0) ?? 0;
  const last = runs.length === 1 && series?.[0]?.points.length ? series[0].points[series[0].points.length - 1].value : undefined;
  const downsampled = series?.some((s) => s.downsampled) ?? false;
  // The highest value drawn (band edge included), for tests and the curious: spikes must survive.
  let yMax = -Infinity;
  for (const l of lines) for (const v of l.hi ?? l.y) if (v !== null && v > yMax) yMax = v;

  return (
    <div
      ref={ref}
      className="chart-card"
      data-testid="metric-chart"
      data-key={metricKey}
      data-total-points={series ? total : undefined}
      data-drawn-points={series ? lines.reduce((n, l) => n + l.x.length, 0) : undefined}
      data-zoomed={zoom ? '1' : '0'}
      data-y-max={Number.isFinite(yMax) ? yMax : undefined}
    >
      <div className="chart-head">
        <span className="chart-title" title={metricKey}>
          {title ?? metricKey}
        </span>
        <span className="chart-meta">
          {last !== undefined && <span className="mono">{fmtNumber(last)}</span>}
          {downsampled && (
            <span className="badge" title={`${total.toLocaleString()} points, drawn as min/max per pixel column`}>
              {total >= 1e6 ? `${(total / 1e6).toFixed(1)}M` : total >= 1e3 ? `${Math.round(total / 1e3)}k` : total} pts
            </span>
          )}
          {zoom && (
            <button className="btn btn-sm btn-ghost" onClick={() => setZoom(null)} title="Reset zoom (or double-click the chart)">
              Reset zoom
            </button>
          )}
          {live && !zoom && <span className="live-dot" title="Updating live" />}
        </span>
      </div>
      {error !== undefined ? (
        <ErrorBox error={error} />
      ) : (
        <div className="chart-body">
          <LineChart
            lines={lines}
            xKind={settings.xAxis}
            smoothing={settings.smoothing}
            log={settings.log}
            band={settings.band}
            height={height}
            onWidth={onWidth}
            onZoom={(a, b) => setZoom([a, b])}
            onReset={() => setZoom(null)}
          />
          {!series && <div className="chart-loading"><span className="spinner" /></div>}
          {series && lines.every((l) => !l.x.length) && <div className="chart-loading muted">No points{zoom ? ' in this range' : ''}</div>}
        </div>
      )}
    </div>
  );
}
