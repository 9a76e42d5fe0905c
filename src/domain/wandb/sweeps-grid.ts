import type { ParamSpec } from './sweeps-config.js';
import { leaves, setPath, type Leaf, type Suggestion } from './sweeps-sampling.js';

// Grid search: the cartesian product of every parameter's values, walked in a fixed order. Points
// are named by a canonical JSON key, so "already handed out" is a set lookup (and a unique index).

function leafValues(spec: Leaf['spec']): unknown[] {
  if (spec.kind === 'constant') return [spec.value];
  if (spec.kind === 'categorical') return spec.values;
  if (spec.distribution === 'int_uniform') {
    const out: number[] = [];
    for (let v = spec.min; v <= spec.max; v++) out.push(v);
    return out;
  }
  // q_uniform: min, min + q, ... below max (max excluded, as wandb/sweeps' np.arange does).
  const out: number[] = [];
  const steps = Math.ceil((spec.max - spec.min) / spec.q - 1e-9);
  for (let i = 0; i < Math.max(1, steps); i++) out.push(Number((spec.min + i * spec.q).toPrecision(12)));
  return out;
}

export interface Grid {
  size: number;
  /** The i-th point, 0 <= i < size (mixed radix, the last parameter varying fastest). */
  point(i: number): Suggestion;
}

export function buildGrid(params: Record<string, ParamSpec>): Grid {
  const ls = leaves(params);
  const values = ls.map((l) => leafValues(l.spec));
  const size = values.reduce((n, v) => n * v.length, 1);
  return {
    size,
    point(i) {
      const out: Suggestion = {};
      for (let k = ls.length - 1; k >= 0; k--) {
        const n = values[k].length;
        setPath(out, ls[k].path, values[k][i % n]);
        i = Math.floor(i / n);
      }
      return reorder(params, out);
    },
  };
}

// Keys in definition order, whatever order the point was filled in.
function reorder(params: Record<string, ParamSpec>, s: Suggestion): Suggestion {
  const out: Suggestion = {};
  for (const [k, spec] of Object.entries(params)) out[k] = spec.kind === 'nested' ? reorder(spec.parameters, s[k] as Suggestion) : s[k];
  return out;
}

/** A canonical key for a point: JSON with object keys sorted at every level. */
export function pointKey(s: unknown): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
      : Array.isArray(v)
        ? v.map(canon)
        : v;
  return JSON.stringify(canon(s));
}

/** The first point not in `taken`, or undefined when the grid is exhausted. */
export function nextGridPoint(grid: Grid, taken: ReadonlySet<string>): { point: Suggestion; key: string } | undefined {
  // Points are handed out in order, so the first free one is at most taken.size steps in: a huge
  // grid costs no more than the trials it already has.
  for (let i = 0; i < grid.size; i++) {
    const point = grid.point(i);
    const key = pointKey(point);
    if (!taken.has(key)) return { point, key };
  }
  return undefined;
}
