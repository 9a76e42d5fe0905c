import type { ParamSpec } from './sweeps-config.js';
import { decodeSuggestion, encodeSuggestion, leaves, normalCdf, normalPdf, sampleSuggestion, type Rng, type Suggestion } from './sweeps-sampling.js';

// Bayesian search written for Cairn: a Gaussian process (Matern 5/2 kernel, one length scale picked
// by marginal likelihood) over the unit cube, and the next point chosen by expected improvement
// among random candidates and perturbations of the best runs so far. Small on purpose: sweeps
// have tens to hundreds of trials, where exact GP inference is cheap.

export interface Observation {
  suggestion: Suggestion;
  /** The sweep metric, already signed so that lower is better. */
  y: number;
}

export interface BayesInfo {
  predictedValue: number;
  predictedStdDev: number;
  expectedImprovement: number;
}

/** Trials that are sampled at random before the model takes over. */
export const BAYES_RANDOM_STARTS = 4;
const CANDIDATES = 1000;
const LOCAL_CANDIDATES = 300;
const MAX_FIT_POINTS = 200;
const LENGTH_SCALES = [0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 1];
const NOISE = 1e-4;

export function nextBayes(params: Record<string, ParamSpec>, observed: Observation[], rng: Rng): { suggestion: Suggestion; info?: BayesInfo } {
  const ls = leaves(params);
  const usable = observed.filter((o) => Number.isFinite(o.y));
  if (usable.length < BAYES_RANDOM_STARTS) return { suggestion: sampleSuggestion(params, rng) };
  // Exact inference is cubic in the points: beyond a bound, fit on the best ones.
  const fit = usable.length > MAX_FIT_POINTS ? [...usable].sort((a, b) => a.y - b.y).slice(0, MAX_FIT_POINTS) : usable;
  const X = fit.map((o) => encodeSuggestion(ls, o.suggestion));
  // The model sees log(1 + y - min): monotone, so the best point stays the best, while a few very
  // bad runs (a diverged loss) no longer flatten everything else into one value.
  const lo = Math.min(...fit.map((o) => o.y));
  const warped = fit.map((o) => Math.log1p(o.y - lo));
  const mean = warped.reduce((s, v) => s + v, 0) / warped.length;
  const sd = Math.sqrt(warped.reduce((s, v) => s + (v - mean) ** 2, 0) / warped.length) || 1;
  const y = warped.map((v) => (v - mean) / sd);
  const gp = fitGp(X, y);
  const best = Math.min(...y);

  const candidates: number[][] = [];
  for (let i = 0; i < CANDIDATES; i++) candidates.push(encodeSuggestion(ls, sampleSuggestion(params, rng)));
  const ranked = X.map((x, i) => ({ x, y: y[i] })).sort((a, b) => a.y - b.y).slice(0, 5);
  for (let i = 0; i < LOCAL_CANDIDATES; i++) {
    const base = ranked[i % ranked.length].x;
    const scale = [0.02, 0.05, 0.12][i % 3];
    candidates.push(base.map((u) => Math.min(1, Math.max(0, u + scale * gaussian(rng)))));
  }
  let bestCandidate = candidates[0];
  let bestInfo: BayesInfo = { predictedValue: 0, predictedStdDev: 0, expectedImprovement: -Infinity };
  for (const c of candidates) {
    const { mu, sigma } = gp.predict(c);
    const ei = expectedImprovement(mu, sigma, best);
    if (ei > bestInfo.expectedImprovement) {
      bestCandidate = c;
      // Reported in the metric's own units (undoing the warp); the spread is the warped one's.
      bestInfo = { predictedValue: lo + Math.expm1(mean + mu * sd), predictedStdDev: sigma * sd, expectedImprovement: ei * sd };
    }
  }
  return { suggestion: decodeSuggestion(ls, bestCandidate), info: bestInfo };
}

function expectedImprovement(mu: number, sigma: number, best: number): number {
  if (sigma <= 1e-12) return Math.max(0, best - mu);
  const z = (best - mu) / sigma;
  return (best - mu) * normalCdf(z) + sigma * normalPdf(z);
}

function gaussian(rng: Rng): number {
  const u = Math.max(1e-12, rng());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function matern52(a: number[], b: number[], ell: number): number {
  let d2 = 0;
  for (let i = 0; i < a.length; i++) d2 += (a[i] - b[i]) ** 2;
  const r = (Math.sqrt(5 * d2) / ell);
  return (1 + r + (r * r) / 3) * Math.exp(-r);
}

interface Gp {
  predict(x: number[]): { mu: number; sigma: number };
}

/** Fits the GP at each candidate length scale and keeps the one with the best marginal likelihood. */
export function fitGp(X: number[][], y: number[]): Gp {
  let chosen: { ell: number; L: number[][]; alpha: number[]; lml: number } | undefined;
  for (const ell of LENGTH_SCALES) {
    const K = X.map((a, i) => X.map((b, j) => matern52(a, b, ell) + (i === j ? NOISE : 0)));
    const L = cholesky(K);
    if (!L) continue;
    const alpha = solveUpper(L, solveLower(L, y));
    const lml = -0.5 * y.reduce((s, v, i) => s + v * alpha[i], 0) - L.reduce((s, row, i) => s + Math.log(row[i]), 0);
    if (!chosen || lml > chosen.lml) chosen = { ell, L, alpha, lml };
  }
  if (!chosen) return { predict: () => ({ mu: 0, sigma: 1 }) };
  const { ell, L, alpha } = chosen;
  return {
    predict(x) {
      const k = X.map((a) => matern52(a, x, ell));
      const mu = k.reduce((s, v, i) => s + v * alpha[i], 0);
      const v = solveLower(L, k);
      const variance = Math.max(1e-12, 1 - v.reduce((s, t) => s + t * t, 0));
      return { mu, sigma: Math.sqrt(variance) };
    },
  };
}

function cholesky(A: number[][]): number[][] | undefined {
  const n = A.length;
  const L = A.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      if (i === j) {
        if (s <= 0) return undefined;
        L[i][i] = Math.sqrt(s);
      } else {
        L[i][j] = s / L[j][j];
      }
    }
  }
  return L;
}

function solveLower(L: number[][], b: number[]): number[] {
  const x = new Array<number>(b.length).fill(0);
  for (let i = 0; i < b.length; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i][k] * x[k];
    x[i] = s / L[i][i];
  }
  return x;
}

function solveUpper(L: number[][], b: number[]): number[] {
  // Solves L^T x = b.
  const n = b.length;
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k][i] * x[k];
    x[i] = s / L[i][i];
  }
  return x;
}
