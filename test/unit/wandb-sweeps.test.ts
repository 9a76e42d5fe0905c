import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../../src/errors.js';
import { parseSweepYaml, validateSweepConfig, type ParamSpec } from '../../src/domain/wandb/sweeps-config.js';
import { buildGrid, nextGridPoint, pointKey } from '../../src/domain/wandb/sweeps-grid.js';
import { hyperbandStops } from '../../src/domain/wandb/sweeps-hyperband.js';
import { decodeLeaf, encodeLeaf, leaves, normalPpf, sampleSuggestion, seededRng } from '../../src/domain/wandb/sweeps-sampling.js';
import { expectedRunCount, proposeNext } from '../../src/domain/wandb/sweeps-search.js';
import { nextBayes } from '../../src/domain/wandb/sweeps-bayes.js';

const cfg = (raw: Record<string, unknown>) => validateSweepConfig(raw);
const params = (p: Record<string, unknown>) => cfg({ method: 'random', parameters: p }).parameters;
const draws = (p: Record<string, unknown>, n = 2000, seed = 7) => {
  const ps = params(p);
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => sampleSuggestion(ps, rng).x);
};
const invalid = (raw: unknown) => {
  try {
    validateSweepConfig(typeof raw === 'string' ? parseSweepYaml(raw) : (raw as Record<string, unknown>));
  } catch (err) {
    expect(err).toBeInstanceOf(MlflowError);
    return (err as MlflowError).message;
  }
  throw new Error('accepted');
};

// Shared with the compat tests: the seed's sweep as its README writes it, and bad configs with the
// error each must get.
const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/wandb-sweep-configs.json', import.meta.url), 'utf8')) as {
  seed_yaml: string;
  bad: Record<string, { yaml: string; error: string; by?: 'client' }>;
};
const SEED_YAML = FIXTURE.seed_yaml;

describe('sweep config', () => {
  it("accepts the seed's sweep YAML and fills in each distribution", () => {
    const c = cfg(parseSweepYaml(SEED_YAML));
    expect(c.method).toBe('bayes');
    expect(c.metric).toEqual({ name: 'val_loss', goal: 'minimize' });
    expect(c.parameters.batch_size).toEqual({ kind: 'categorical', values: [16, 32, 64] });
    expect(c.parameters.lr).toMatchObject({ kind: 'numeric', distribution: 'log_uniform_values', min: 0.0001, max: 0.1 });
    expect(c.earlyTerminate).toMatchObject({ eta: 3, strict: true });
    expect(c.earlyTerminate!.bands.slice(0, 4)).toEqual([3, 9, 27, 81]);
  });

  it('infers int_uniform, uniform, constant, categorical_w_probabilities and normal when distribution is left out', () => {
    const p = params({ a: { min: 1, max: 5 }, b: { min: 0.5, max: 2 }, c: { value: 'adam' }, d: { values: [1, 2], probabilities: [0.25, 0.75] }, e: { mu: 1, sigma: 2 } });
    expect(p.a).toMatchObject({ distribution: 'int_uniform' });
    expect(p.b).toMatchObject({ distribution: 'uniform' });
    expect(p.c).toEqual({ kind: 'constant', value: 'adam' });
    expect(p.d).toEqual({ kind: 'categorical', values: [1, 2], probabilities: [0.25, 0.75] });
    expect(p.e).toMatchObject({ distribution: 'normal', mu: 1, sigma: 2 });
  });

  it('hyperband brackets from max_iter and s count down from max_iter by eta', () => {
    const c = cfg({ method: 'random', metric: { name: 'loss' }, parameters: { x: { values: [1] } }, early_terminate: { type: 'hyperband', max_iter: 27, s: 2, eta: 3 } });
    expect(c.earlyTerminate!.bands).toEqual([3, 9]);
  });

  it('refuses malformed configs with a message naming the problem', () => {
    expect(invalid('method: [unclosed')).toMatch(/not valid YAML/);
    expect(invalid('just a string')).toMatch(/expected a mapping/);
    // "Billion laughs": nine levels of nine aliases each.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) bomb.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    expect(invalid(bomb.join('\n'))).toMatch(/too many YAML aliases/);
    expect(invalid({ parameters: { x: { values: [1] } } })).toMatch(/'method' is required/);
    expect(invalid({ method: 'hill-climb', parameters: { x: { values: [1] } } })).toMatch(/method 'hill-climb' is not supported/);
    expect(invalid({ method: 'bayes', parameters: { x: { values: [1] } } })).toMatch(/needs a 'metric'/);
    expect(invalid({ method: 'random', parameters: {} })).toMatch(/'parameters' must be a non-empty mapping/);
    expect(invalid({ method: 'random', parameters: { x: { distribution: 'zipf', min: 1, max: 2 } } })).toMatch(/unknown distribution 'zipf'/);
    expect(invalid({ method: 'random', parameters: { x: { min: 5, max: 1 } } })).toMatch(/min \(5\) is greater than max \(1\)/);
    expect(invalid({ method: 'random', parameters: { x: { distribution: 'log_uniform_values', min: 0, max: 1 } } })).toMatch(/needs min > 0/);
    expect(invalid({ method: 'random', parameters: { x: { distribution: 'uniform', min: 'a', max: 1 } } })).toMatch(/needs a numeric 'min'/);
    expect(invalid({ method: 'random', parameters: { x: { values: [] } } })).toMatch(/non-empty list/);
    expect(invalid({ method: 'random', parameters: { x: { values: [1, 2], probabilities: [0.5, 0.6] } } })).toMatch(/sum to 1/);
    expect(invalid({ method: 'random', parameters: { '1bad': { value: 1 } } })).toMatch(/parameter name '1bad'/);
    expect(invalid({ method: 'grid', parameters: { x: { min: 0.0, max: 1.5 } } })).toMatch(/grid search needs discrete values/);
    expect(invalid({ method: 'random', metric: { name: 'l' }, parameters: { x: { value: 1 } }, early_terminate: { type: 'hyperband', eta: 1, min_iter: 1 } })).toMatch(/eta/);
    expect(invalid({ method: 'random', metric: { name: 'l' }, parameters: { x: { value: 1 } }, early_terminate: { type: 'hyperband' } })).toMatch(/min_iter, or max_iter/);
    expect(invalid({ method: 'random', metric: { name: 'l' }, parameters: { x: { value: 1 } }, early_terminate: { type: 'median' } })).toMatch(/use hyperband/);
    expect(invalid({ method: 'random', parameters: { x: { value: 1 } }, run_cap: 0 })).toMatch(/run_cap/);
  });

  it('refuses the shared bad configs as the compat tests expect', () => {
    const serverSide = Object.entries(FIXTURE.bad).filter(([, c]) => c.by !== 'client');
    expect(serverSide.length).toBeGreaterThan(4);
    for (const [name, { yaml, error }] of serverSide) expect([name, invalid(yaml)]).toEqual([name, expect.stringContaining(error)]);
  });
});

describe('distribution sampling', () => {
  it('keeps every distribution in its support, with the right shape', () => {
    const ints = draws({ x: { distribution: 'int_uniform', min: 1, max: 3 } }) as number[];
    expect(new Set(ints)).toEqual(new Set([1, 2, 3]));

    const u = draws({ x: { distribution: 'uniform', min: 2, max: 4 } }) as number[];
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThanOrEqual(4);
    expect(u.reduce((a, b) => a + b) / u.length).toBeCloseTo(3, 1);

    // log_uniform_values: the geometric midpoint is the median.
    const lv = draws({ x: { distribution: 'log_uniform_values', min: 0.0001, max: 0.1 } }) as number[];
    expect(Math.min(...lv)).toBeGreaterThanOrEqual(0.0001);
    expect(Math.max(...lv)).toBeLessThanOrEqual(0.1);
    const below = lv.filter((v) => v < Math.sqrt(0.0001 * 0.1)).length / lv.length;
    expect(below).toBeGreaterThan(0.45);
    expect(below).toBeLessThan(0.55);

    // log_uniform: min and max are natural-log exponents.
    const le = draws({ x: { distribution: 'log_uniform', min: 0, max: 1 } }) as number[];
    expect(Math.min(...le)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...le)).toBeLessThanOrEqual(Math.E);

    const inv = draws({ x: { distribution: 'inv_log_uniform_values', min: 0.01, max: 1 } }) as number[];
    expect(Math.min(...inv)).toBeGreaterThanOrEqual(0.01);
    expect(Math.max(...inv)).toBeLessThanOrEqual(1);

    const qu = draws({ x: { distribution: 'q_uniform', min: 0, max: 10, q: 2.5 } }) as number[];
    expect(qu.every((v) => Math.abs(v / 2.5 - Math.round(v / 2.5)) < 1e-9)).toBe(true);
    const qlv = draws({ x: { distribution: 'q_log_uniform_values', min: 1, max: 1000, q: 10 } }) as number[];
    expect(qlv.every((v) => v % 10 === 0)).toBe(true);

    const n = draws({ x: { distribution: 'normal', mu: 5, sigma: 2 } }) as number[];
    const mean = n.reduce((a, b) => a + b) / n.length;
    const sd = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(5, 0);
    expect(sd).toBeGreaterThan(1.8);
    expect(sd).toBeLessThan(2.2);

    const ln = draws({ x: { distribution: 'log_normal', mu: 0, sigma: 1 } }) as number[];
    expect(ln.every((v) => v > 0)).toBe(true);
    expect(ln.filter((v) => v < 1).length / ln.length).toBeCloseTo(0.5, 1);

    const beta = draws({ x: { distribution: 'beta', a: 2, b: 5 } }) as number[];
    expect(beta.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(beta.reduce((a, b) => a + b) / beta.length).toBeCloseTo(2 / 7, 1);

    const cat = draws({ x: { values: ['a', 'b'], probabilities: [0.1, 0.9] } }) as string[];
    expect(cat.filter((v) => v === 'b').length / cat.length).toBeCloseTo(0.9, 1);
  });

  it('samples nested parameters as a nested value', () => {
    const p = params({ optimizer: { parameters: { name: { value: 'sgd' }, lr: { min: 0.1, max: 0.2 } } }, epochs: { value: 3 } });
    const s = sampleSuggestion(p, seededRng(1));
    expect(s).toMatchObject({ optimizer: { name: 'sgd' }, epochs: 3 });
    expect((s.optimizer as { lr: number }).lr).toBeGreaterThanOrEqual(0.1);
  });

  it('encodes and decodes values through the unit cube (the bayes search space)', () => {
    const p = params({
      a: { distribution: 'log_uniform_values', min: 0.001, max: 1 },
      b: { distribution: 'normal', mu: 0, sigma: 1 },
      c: { distribution: 'int_uniform', min: 0, max: 9 },
      d: { values: ['x', 'y', 'z'] },
    });
    for (const leaf of leaves(p)) {
      // Discrete leaves land on the middle of their cell: within a cell's width of u.
      for (const u of [0.1, 0.5, 0.9]) expect(Math.abs(encodeLeaf(leaf.spec, decodeLeaf(leaf.spec, u)) - u)).toBeLessThan(0.1);
    }
    expect(normalPpf(0.975)).toBeCloseTo(1.95996, 4);
  });

  it('keeps a bounded value within its bounds at the ends of the unit interval', () => {
    // exp(log(0.0001) + (log(0.1) - log(0.0001))) is 0.10000000000000006 in floating point.
    const [lr, drop, inv] = leaves(params({
      lr: { distribution: 'log_uniform_values', min: 0.0001, max: 0.1 },
      drop: { distribution: 'uniform', min: 0.1, max: 0.7 },
      inv: { distribution: 'inv_log_uniform_values', min: 0.0001, max: 0.1 },
    }));
    for (const leaf of [lr, drop, inv]) {
      for (const u of [0, 1]) {
        const v = decodeLeaf(leaf.spec, u) as number;
        expect(v).toBeGreaterThanOrEqual((leaf.spec as { min: number }).min);
        expect(v).toBeLessThanOrEqual((leaf.spec as { max: number }).max);
      }
    }
  });
});

describe('grid search', () => {
  const grid = (p: Record<string, unknown>) => buildGrid(params(p));

  it('enumerates the cartesian product of values, int ranges and q steps, nested included', () => {
    const g = grid({ a: { values: [1, 2] }, b: { distribution: 'int_uniform', min: 0, max: 2 }, n: { parameters: { c: { distribution: 'q_uniform', min: 0, max: 1, q: 0.25 } } }, k: { value: 'x' } });
    expect(g.size).toBe(2 * 3 * 4);
    const points = Array.from({ length: g.size }, (_, i) => g.point(i));
    expect(new Set(points.map(pointKey)).size).toBe(g.size);
    expect(points[0]).toEqual({ a: 1, b: 0, n: { c: 0 }, k: 'x' });
    expect(points.at(-1)).toEqual({ a: 2, b: 2, n: { c: 0.75 }, k: 'x' });
  });

  it('hands out the first free point and reports exhaustion', () => {
    const g = grid({ a: { values: [1, 2, 3] } });
    const taken = new Set<string>();
    const seen = [];
    for (;;) {
      const next = nextGridPoint(g, taken);
      if (!next) break;
      taken.add(next.key);
      seen.push(next.point.a);
    }
    expect(seen).toEqual([1, 2, 3]);
    // A released point (a lost trial's) is the next one handed out.
    taken.delete(pointKey({ a: 2 }));
    expect(nextGridPoint(g, taken)!.point).toEqual({ a: 2 });
  });

  it('point keys ignore object key order', () => {
    expect(pointKey({ a: 1, b: { d: 2, c: 3 } })).toBe(pointKey({ b: { c: 3, d: 2 }, a: 1 }));
  });

  it('run_cap and grid size bound the expected run count', () => {
    expect(expectedRunCount(cfg({ method: 'grid', parameters: { a: { values: [1, 2, 3] } } }))).toBe(3);
    expect(expectedRunCount(cfg({ method: 'grid', parameters: { a: { values: [1, 2, 3] } }, run_cap: 2 }))).toBe(2);
    expect(expectedRunCount(cfg({ method: 'random', parameters: { a: { values: [1] } } }))).toBeNull();
    const capped = cfg({ method: 'random', parameters: { a: { min: 0.0, max: 1.0 } }, run_cap: 2 });
    expect(proposeNext(capped, { taken: new Set(), observations: [], trialCount: 2 }, seededRng(1))).toBeUndefined();
    expect(proposeNext(capped, { taken: new Set(), observations: [], trialCount: 1 }, seededRng(1))).toBeDefined();
  });
});

describe('hyperband', () => {
  const h = { bands: [3, 9, 27], eta: 3, strict: true };
  const run = (name: string, history: number[], running = true) => ({ name, history, running });

  it('stops running runs outside the best 1/eta at the last bracket they passed', () => {
    const stops = hyperbandStops(h, 'minimize', [
      run('good', [1, 0.8, 0.5]),
      run('mid', [1, 0.9, 0.7]),
      run('bad', [1, 1, 0.95]),
      run('young', [5, 5]),
    ]);
    expect(stops.map((s) => s.name).sort()).toEqual(['bad', 'mid']);
    expect(stops.find((s) => s.name === 'bad')).toMatchObject({ band: 3, value: 0.95, threshold: 0.5 });
  });

  it('compares finished runs too but never stops them, and flips the order for maximize', () => {
    const stops = hyperbandStops(h, 'maximize', [run('done', [0.1, 0.5, 0.9], false), run('low', [0.1, 0.2, 0.3]), run('high', [0.1, 0.2, 0.95])]);
    expect(stops.map((s) => s.name)).toEqual(['low']);
  });

  it('a lone run is never stopped, and non-strict mode uses the best value so far', () => {
    expect(hyperbandStops(h, 'minimize', [run('only', [9, 9, 9])])).toEqual([]);
    const loose = { ...h, strict: false };
    const stops = hyperbandStops(loose, 'minimize', [run('dip', [0.1, 2, 2]), run('flat', [0.5, 0.5, 0.5])]);
    expect(stops.map((s) => s.name)).toEqual(['flat']);
  });
});

describe('bayes search', () => {
  it('starts at random, then proposes points inside the space near the best observations', () => {
    const p = params({ x: { distribution: 'uniform', min: 0, max: 1 }, k: { values: ['a', 'b'] } });
    const rng = seededRng(3);
    expect(nextBayes(p, [], rng).info).toBeUndefined();
    const f = (x: number) => (x - 0.3) ** 2;
    const observed = [0.05, 0.5, 0.9, 0.28, 0.7].map((x) => ({ suggestion: { x, k: 'a' }, y: f(x) }));
    const next = nextBayes(p, observed, rng);
    expect(next.info).toBeDefined();
    expect(next.suggestion.x as number).toBeGreaterThan(0.1);
    expect(next.suggestion.x as number).toBeLessThan(0.5);
    expect(['a', 'b']).toContain(next.suggestion.k);
  });
});

// Types the tests construct stay in step with the domain's.
export type { ParamSpec };
