// Search quality of the sweep engine (issue 13 item 11): how many trials bayes and random need to
// come within a given distance of a known optimum, over a fixed set of seeds. It calls the search
// the server runs on every agent heartbeat (proposeNext) in a loop, with the objective evaluated
// in-process: real agents heartbeat every 5 s, which would make hundreds of trials take hours.
//
//   npx tsc -p bench/tsconfig.json && node dist/bench/sweep-quality.js   # writes bench/results/sweep-quality.json
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateSweepConfig } from '../src/domain/wandb/sweeps-config.js';
import { seededRng } from '../src/domain/wandb/sweeps-sampling.js';
import { proposeNext } from '../src/domain/wandb/sweeps-search.js';

export interface Objective {
  name: string;
  parameters: Record<string, unknown>;
  optimum: number;
  /** Distance from the optimum (in objective value) that counts as reached. */
  tolerance: number;
  f(x: Record<string, number>): number;
}

export const BRANIN: Objective = {
  name: 'branin (2 params)',
  parameters: { x: { distribution: 'uniform', min: -5, max: 10 }, y: { distribution: 'uniform', min: 0, max: 15 } },
  optimum: 0.397887,
  tolerance: 0.5,
  f: ({ x, y }) => (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10,
};

// Hartmann 3-D: four local minima, the global one at (0.114614, 0.555649, 0.852547).
const H3_A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]];
const H3_P = [[0.3689, 0.117, 0.2673], [0.4699, 0.4387, 0.747], [0.1091, 0.8732, 0.5547], [0.03815, 0.5743, 0.8828]];
const H3_C = [1, 1.2, 3, 3.2];
export const HARTMANN3: Objective = {
  name: 'hartmann3 (3 params)',
  parameters: { a: { distribution: 'uniform', min: 0, max: 1 }, b: { distribution: 'uniform', min: 0, max: 1 }, c: { distribution: 'uniform', min: 0, max: 1 } },
  optimum: -3.86278,
  tolerance: 0.3,
  f: ({ a, b, c }) => -H3_C.reduce((s, ci, i) => s + ci * Math.exp(-[a, b, c].reduce((t, x, j) => t + H3_A[i][j] * (x - H3_P[i][j]) ** 2, 0)), 0),
};

export interface SearchResult {
  objective: string;
  method: 'random' | 'bayes';
  budget: number;
  /** Trials each seed needed to come within tolerance (budget + 1 when it never did). */
  trials: number[];
  mean: number;
  median: number;
  reached: number;
}

export function measureSearch(o: Objective, method: 'random' | 'bayes', seeds: number[], budget: number): SearchResult {
  const config = validateSweepConfig({ method, metric: { name: 'value', goal: 'minimize' }, parameters: o.parameters });
  const trials = seeds.map((seed) => {
    const rng = seededRng(seed);
    const observations: { suggestion: Record<string, unknown>; y: number }[] = [];
    for (let t = 1; t <= budget; t++) {
      const p = proposeNext(config, { taken: new Set(), observations, trialCount: t - 1 }, rng)!;
      const y = o.f(p.suggestion as Record<string, number>);
      observations.push({ suggestion: p.suggestion, y });
      if (y - o.optimum <= o.tolerance) return t;
    }
    return budget + 1;
  });
  const sorted = [...trials].sort((a, b) => a - b);
  return {
    objective: o.name,
    method,
    budget,
    trials,
    mean: trials.reduce((a, b) => a + b, 0) / trials.length,
    median: sorted[Math.floor(sorted.length / 2)],
    reached: trials.filter((t) => t <= budget).length,
  };
}

export const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const BUDGET = 60;

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const results = [BRANIN, HARTMANN3].flatMap((o) => (['random', 'bayes'] as const).map((m) => measureSearch(o, m, SEEDS, BUDGET)));
  console.log(`| objective | method | mean trials to reach | median | reached within ${BUDGET} |\n|---|---|---|---|---|`);
  for (const r of results) console.log(`| ${r.objective} | ${r.method} | ${r.mean.toFixed(1)} | ${r.median} | ${r.reached}/${r.trials.length} |`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'sweep-quality.json');
  fs.writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), seeds: SEEDS, budget: BUDGET, results }, null, 2) + '\n');
  console.log(`figures written to ${out}`);
}
