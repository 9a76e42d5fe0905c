import type { Goal, Hyperband } from './sweeps-config.js';

// Hyperband early termination as W&B applies it: brackets count how many times the sweep metric
// was logged. At each bracket, the runs that got there are ranked by their value at it, and a
// running run that falls outside the best 1/eta of them is stopped.

export interface RunHistory {
  name: string;
  /** The metric's values in the order they were logged. */
  history: number[];
  running: boolean;
}

export interface StopDecision {
  name: string;
  band: number;
  value: number;
  threshold: number;
}

export function hyperbandStops(h: Hyperband, goal: Goal, runs: RunHistory[]): StopDecision[] {
  const sign = goal === 'maximize' ? -1 : 1;
  const valueAt = (history: number[], band: number) =>
    h.strict ? sign * history[band - 1] : Math.min(...history.slice(0, band).map((v) => sign * v));
  const thresholds = new Map<number, number>();
  for (const band of h.bands) {
    const values = runs
      .filter((r) => r.history.length >= band)
      .map((r) => valueAt(r.history, band))
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    // Keep the best ceil(n / eta): the threshold is the worst value still kept.
    if (values.length) thresholds.set(band, values[Math.ceil(values.length / h.eta) - 1]);
  }
  const stops: StopDecision[] = [];
  for (const run of runs) {
    if (!run.running) continue;
    const passed = h.bands.filter((b) => run.history.length >= b);
    if (!passed.length) continue;
    const band = passed[passed.length - 1];
    const value = valueAt(run.history, band);
    const threshold = thresholds.get(band)!;
    if (Number.isNaN(value) || value > threshold) stops.push({ name: run.name, band, value: sign * value, threshold: sign * threshold });
  }
  return stops;
}
