import type { SweepConfig } from './sweeps-config.js';
import { nextBayes, type BayesInfo, type Observation } from './sweeps-bayes.js';
import { buildGrid, nextGridPoint } from './sweeps-grid.js';
import { sampleSuggestion, type Rng, type Suggestion } from './sweeps-sampling.js';

/** What the search knows about a sweep when an agent asks for work. */
export interface SearchState {
  /** Grid points held by trials (lost trials have released theirs). */
  taken: ReadonlySet<string>;
  /** Finished trials with their metric, signed so that lower is better. */
  observations: Observation[];
  /** Trials that count against run_cap (all but the lost ones). */
  trialCount: number;
}

export interface Proposal {
  suggestion: Suggestion;
  gridKey?: string;
  info?: BayesInfo;
}

/** Signs a metric value so that lower is better whatever the goal. */
export const signed = (config: SweepConfig, value: number) => (config.metric?.goal === 'maximize' ? -value : value);

/** The next suggestion, or undefined when the sweep has nothing left to try. */
export function proposeNext(config: SweepConfig, state: SearchState, rng: Rng): Proposal | undefined {
  if (config.runCap !== undefined && state.trialCount >= config.runCap) return undefined;
  const target = config.metric?.target;
  if (target !== undefined && state.observations.some((o) => o.y <= signed(config, target))) return undefined;
  if (config.method === 'grid') {
    const next = nextGridPoint(buildGrid(config.parameters), state.taken);
    return next && { suggestion: next.point, gridKey: next.key };
  }
  if (config.method === 'random') return { suggestion: sampleSuggestion(config.parameters, rng) };
  return nextBayes(config.parameters, state.observations, rng);
}

/** How many runs the sweep expects: the grid's size or run_cap, whichever is smaller; else unbounded. */
export function expectedRunCount(config: SweepConfig): number | null {
  const grid = config.method === 'grid' ? buildGrid(config.parameters).size : Infinity;
  const n = Math.min(grid, config.runCap ?? Infinity);
  return Number.isFinite(n) ? n : null;
}
