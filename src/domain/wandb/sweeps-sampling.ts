import type { ParamSpec } from './sweeps-config.js';

// Drawing parameter values from each W&B distribution, and mapping values to and from the unit
// cube (through each distribution's CDF, as W&B's bayes search does) so the Gaussian process and
// the random search see every parameter on the same [0, 1] scale.

export type Rng = () => number;

/** A small seeded generator (mulberry32): reproducible searches in tests and the benchmark. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sweep's values by parameter name; nested parameters hold a plain object. */
export type Suggestion = Record<string, unknown>;

/** One numeric or categorical coordinate of the search space, in definition order. */
export interface Leaf {
  path: string[];
  spec: Exclude<ParamSpec, { kind: 'nested' }>;
}

export function leaves(params: Record<string, ParamSpec>, prefix: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const [name, spec] of Object.entries(params)) {
    if (spec.kind === 'nested') out.push(...leaves(spec.parameters, [...prefix, name]));
    else out.push({ path: [...prefix, name], spec });
  }
  return out;
}

export function setPath(target: Suggestion, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Suggestion;
  node[path[path.length - 1]] = value;
}

export function getPath(source: Suggestion, path: string[]): unknown {
  let node: unknown = source;
  for (const key of path) node = node && typeof node === 'object' ? (node as Suggestion)[key] : undefined;
  return node;
}

/** The agent's form of a suggestion: `{name: {value: v}}` at the top level. */
export const toArgs = (s: Suggestion): Record<string, { value: unknown }> => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, { value: v }]));

export function sampleSuggestion(params: Record<string, ParamSpec>, rng: Rng): Suggestion {
  const out: Suggestion = {};
  for (const leaf of leaves(params)) setPath(out, leaf.path, sampleLeaf(leaf.spec, rng));
  return out;
}

/** Builds a suggestion from one unit-cube coordinate per leaf (constants ignore theirs). */
export function decodeSuggestion(ls: Leaf[], u: number[]): Suggestion {
  const out: Suggestion = {};
  ls.forEach((leaf, i) => setPath(out, leaf.path, decodeLeaf(leaf.spec, u[i])));
  return out;
}

export function encodeSuggestion(ls: Leaf[], s: Suggestion): number[] {
  return ls.map((leaf) => encodeLeaf(leaf.spec, getPath(s, leaf.path)));
}

const quantize = (x: number, q: number) => Math.round(x / q) * q;
const clamp01 = (u: number) => Math.min(1 - 1e-12, Math.max(1e-12, u));

function sampleLeaf(spec: Leaf['spec'], rng: Rng): unknown {
  if (spec.kind === 'constant') return spec.value;
  if (spec.kind === 'categorical' && spec.probabilities) {
    let r = rng();
    for (let i = 0; i < spec.values.length; i++) {
      r -= spec.probabilities[i];
      if (r < 0) return spec.values[i];
    }
    return spec.values[spec.values.length - 1];
  }
  if (spec.kind === 'numeric' && /beta$/.test(spec.distribution)) {
    const x = sampleBeta(spec.a, spec.b, rng);
    return spec.distribution === 'q_beta' ? quantize(x, spec.q) : x;
  }
  return decodeLeaf(spec, rng());
}

/** The value at CDF position u (0..1): inverse-transform sampling and the bayes search's decoder. */
export function decodeLeaf(spec: Leaf['spec'], u: number): unknown {
  if (spec.kind === 'constant') return spec.value;
  if (spec.kind === 'categorical') return spec.values[Math.min(spec.values.length - 1, Math.floor(u * spec.values.length))];
  const { min, max, mu, sigma, q } = spec;
  const logUniform = (lo: number, hi: number) => Math.exp(lo + u * (hi - lo));
  // exp(log(max)) can be max plus a rounding error: a value the user bounded stays within its bounds.
  const bounded = (x: number) => Math.min(max, Math.max(min, x));
  switch (spec.distribution) {
    case 'int_uniform':
      return Math.min(max, min + Math.floor(u * (max - min + 1)));
    case 'uniform':
      return bounded(min + u * (max - min));
    case 'q_uniform':
      return quantize(min + u * (max - min), q);
    // log_uniform's min/max are natural-log exponents; the _values forms give the values themselves.
    case 'log_uniform':
      return logUniform(min, max);
    case 'q_log_uniform':
      return quantize(logUniform(min, max), q);
    case 'log_uniform_values':
      return bounded(logUniform(Math.log(min), Math.log(max)));
    case 'q_log_uniform_values':
      return quantize(logUniform(Math.log(min), Math.log(max)), q);
    // log(1/X) is uniform: X = 1 / e^(uniform in [min, max]).
    case 'inv_log_uniform':
      return 1 / Math.exp(min + (1 - u) * (max - min));
    case 'inv_log_uniform_values':
      return bounded(1 / Math.exp(Math.log(1 / max) + (1 - u) * (Math.log(1 / min) - Math.log(1 / max))));
    case 'normal':
      return mu + sigma * normalPpf(clamp01(u));
    case 'q_normal':
      return quantize(mu + sigma * normalPpf(clamp01(u)), q);
    case 'log_normal':
      return Math.exp(mu + sigma * normalPpf(clamp01(u)));
    case 'q_log_normal':
      return quantize(Math.exp(mu + sigma * normalPpf(clamp01(u))), q);
    // Beta's inverse CDF has no closed form; its support is [0, 1], so the position serves.
    case 'beta':
      return u;
    case 'q_beta':
      return quantize(u, q);
  }
}

/** The CDF position of a value (the inverse of decodeLeaf, up to rounding). */
export function encodeLeaf(spec: Leaf['spec'], v: unknown): number {
  if (spec.kind === 'constant') return 0.5;
  if (spec.kind === 'categorical') {
    const i = spec.values.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
    return (Math.max(0, i) + 0.5) / spec.values.length;
  }
  const x = Number(v);
  if (!Number.isFinite(x)) return 0.5;
  const { min, max, mu, sigma } = spec;
  const lin = (lo: number, hi: number, y: number) => (hi > lo ? (y - lo) / (hi - lo) : 0.5);
  const unit = (() => {
    switch (spec.distribution) {
      case 'int_uniform':
        return (x - min + 0.5) / (max - min + 1);
      case 'uniform':
      case 'q_uniform':
        return lin(min, max, x);
      case 'log_uniform':
      case 'q_log_uniform':
        return lin(min, max, Math.log(Math.max(x, 1e-300)));
      case 'log_uniform_values':
      case 'q_log_uniform_values':
        return lin(Math.log(min), Math.log(max), Math.log(Math.max(x, 1e-300)));
      case 'inv_log_uniform':
        return 1 - lin(min, max, -Math.log(Math.max(x, 1e-300)));
      case 'inv_log_uniform_values':
        return 1 - lin(Math.log(1 / max), Math.log(1 / min), -Math.log(Math.max(x, 1e-300)));
      case 'normal':
      case 'q_normal':
        return normalCdf((x - mu) / sigma);
      case 'log_normal':
      case 'q_log_normal':
        return normalCdf((Math.log(Math.max(x, 1e-300)) - mu) / sigma);
      case 'beta':
      case 'q_beta':
        return x;
    }
  })();
  return Math.min(1, Math.max(0, unit));
}

export function normalCdf(z: number): number {
  // Abramowitz & Stegun 7.1.26 via erf; absolute error below 1.5e-7.
  const t = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export function normalPdf(z: number): number {
  return Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);
}

/** The standard normal's inverse CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalPpf(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalPpf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

function sampleGamma(shape: number, rng: Rng): number {
  // Marsaglia & Tsang; shape < 1 through the boost gamma(shape + 1) * U^(1/shape).
  if (shape < 1) return sampleGamma(shape + 1, rng) * rng() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normalPpf(clamp01(rng()));
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    if (Math.log(clamp01(rng())) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  return x / (x + sampleGamma(b, rng));
}
