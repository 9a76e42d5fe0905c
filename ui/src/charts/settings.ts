// What every chart on a page shares: the x axis, smoothing, scale and the min/max band.

export type XAxisKind = 'step' | 'time' | 'relative';

export interface ChartSettings {
  xAxis: XAxisKind;
  /** EMA weight, 0 (off) .. 0.99. */
  smoothing: number;
  log: boolean;
  band: boolean;
}

export const DEFAULT_SETTINGS: ChartSettings = { xAxis: 'step', smoothing: 0, log: false, band: true };

export function settingsFromQuery(q: URLSearchParams): ChartSettings {
  const x = q.get('x');
  const s = Number(q.get('smooth'));
  return {
    xAxis: x === 'time' || x === 'relative' ? x : 'step',
    smoothing: Number.isFinite(s) && s > 0 && s < 1 ? s : 0,
    log: q.get('log') === '1',
    band: q.get('band') !== '0',
  };
}

export function settingsToQuery(s: ChartSettings, q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(q);
  const set = (k: string, v: string | undefined) => (v === undefined ? out.delete(k) : out.set(k, v));
  set('x', s.xAxis === 'step' ? undefined : s.xAxis);
  set('smooth', s.smoothing > 0 ? String(s.smoothing) : undefined);
  set('log', s.log ? '1' : undefined);
  set('band', s.band ? undefined : '0');
  return out;
}

/** Duration axis labels for relative time (seconds since the run started). */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '';
  const sign = s < 0 ? '-' : '';
  s = Math.abs(s);
  if (s < 60) return `${sign}${Number(s.toFixed(s < 10 ? 1 : 0))}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${s % 60 >= 1 ? ` ${Math.floor(s % 60)}s` : ''}`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${sign}${h}h${m ? ` ${m}m` : ''}`;
}
