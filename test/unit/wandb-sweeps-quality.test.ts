import { describe, expect, it } from 'vitest';
import { BRANIN, BUDGET, HARTMANN3, measureSearch, SEEDS } from '../../bench/sweep-quality.js';

// Issue 13 item 11: on known objectives, over fixed seeds, bayes reaches the optimum's neighbourhood
// in fewer trials than random. Seeded, so the figures are exact; the margins leave room for small
// changes to the search. The bench prints the same figures (bench/sweep-quality.ts).
describe('sweep search quality', () => {
  for (const objective of [BRANIN, HARTMANN3]) {
    it(`bayes needs clearly fewer trials than random on ${objective.name}`, () => {
      const random = measureSearch(objective, 'random', SEEDS, BUDGET);
      const bayes = measureSearch(objective, 'bayes', SEEDS, BUDGET);
      expect(bayes.mean).toBeLessThan(0.75 * random.mean);
      expect(bayes.reached).toBeGreaterThanOrEqual(9);
      expect(bayes.reached).toBeGreaterThan(random.reached);
    });
  }
});
