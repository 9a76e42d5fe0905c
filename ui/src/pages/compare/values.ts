import type { Run } from '../../api/types';

// The comparable values of runs: params, latest metrics and a few attributes, by column id.

export interface Column {
  id: string;
  kind: 'param' | 'metric';
  key: string;
}

export const paramOf = (r: Run, key: string) => r.data.params?.find((p) => p.key === key)?.value;

export function metricOf(r: Run, key: string): number | undefined {
  const m = r.data.metrics?.find((x) => x.key === key);
  return m && typeof m.value === 'number' ? m.value : undefined;
}

export function valueOf(r: Run, c: Column): string | number | undefined {
  return c.kind === 'param' ? paramOf(r, c.key) : metricOf(r, c.key);
}

/** Param keys, then metric keys, over all runs, sorted. */
export function columnsOf(runs: Run[]): { params: string[]; metrics: string[] } {
  const p = new Set<string>();
  const m = new Set<string>();
  for (const r of runs) {
    r.data.params?.forEach((x) => p.add(x.key));
    r.data.metrics?.forEach((x) => m.add(x.key));
  }
  const sort = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { params: sort(p), metrics: sort(m) };
}

/** True when the runs do not all hold the same value (a missing value counts as different). */
export function differs(values: (string | number | undefined)[]): boolean {
  return values.some((v) => v !== values[0]);
}

/** A numeric reading of a column's values, or a categorical one (evenly spaced, sorted) when not all are numbers. */
export function axisOf(values: (string | number | undefined)[]): { pos: (v: string | number | undefined) => number | undefined; ticks: { at: number; label: string }[]; numeric: boolean } {
  const present = values.filter((v): v is string | number => v !== undefined && v !== '');
  const nums = present.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (present.length && nums.every((n) => Number.isFinite(n))) {
    let lo = Math.min(...nums);
    let hi = Math.max(...nums);
    // Values spanning two decades or more (learning rates, weight decays) read better on a log axis.
    if (lo > 0 && hi / lo >= 100) {
      const [a, b] = [Math.log10(lo), Math.log10(hi)];
      const pos = (v: string | number | undefined) => {
        if (v === undefined || v === '') return undefined;
        const n = typeof v === 'number' ? v : Number(v);
        return Number.isFinite(n) && n > 0 ? (Math.log10(n) - a) / (b - a) : undefined;
      };
      const ticks = [0, 0.5, 1].map((t) => ({ at: t, label: fmtTick(Math.pow(10, a + t * (b - a))) }));
      return { pos, ticks, numeric: true };
    }
    if (lo === hi) (lo -= 1), (hi += 1);
    const pos = (v: string | number | undefined) => {
      if (v === undefined || v === '') return undefined;
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(n) ? (n - lo) / (hi - lo) : undefined;
    };
    const ticks = [0, 0.5, 1].map((t) => ({ at: t, label: fmtTick(lo + t * (hi - lo)) }));
    return { pos, ticks, numeric: true };
  }
  const cats = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const pos = (v: string | number | undefined) => {
    if (v === undefined) return undefined;
    const i = cats.indexOf(String(v));
    return i < 0 ? undefined : cats.length === 1 ? 0.5 : i / (cats.length - 1);
  };
  return { pos, ticks: cats.slice(0, 12).map((c) => ({ at: pos(c)!, label: c.length > 14 ? `${c.slice(0, 13)}…` : c })), numeric: false };
}

function fmtTick(n: number): string {
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return n.toExponential(1);
  return String(Number(n.toPrecision(3)));
}
