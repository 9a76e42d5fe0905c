import { describe, expect, it } from 'vitest';
import { npmiOf } from '../../src/domain/traces/prompt-links.js';

// CalculateTraceFilterCorrelation's arithmetic on the 2x2 table of two filters' matches.
describe('npmiOf', () => {
  it('is 0 for independent filters, 1 for filters that always co-occur, -1 for ones that never do', () => {
    expect(npmiOf({ total: 100, f1: 50, f2: 20, joint: 10 }).npmi).toBeCloseTo(0, 12);
    expect(npmiOf({ total: 10, f1: 10, f2: 10, joint: 10 }).npmi).toBe(1);
    expect(npmiOf({ total: 10, f1: 4, f2: 3, joint: 0 }).npmi).toBe(-1);
  });

  it('smooths with half a count per cell, pulling the value towards 0', () => {
    const { npmi, smoothed } = npmiOf({ total: 8, f1: 4, f2: 2, joint: 2 });
    expect(npmi).toBeCloseTo(Math.log(2) / Math.log(4), 12);
    // (2.5 * 10 / (5 * 3)) over -log(2.5 / 10)
    expect(smoothed).toBeCloseTo(Math.log(25 / 15) / Math.log(4), 12);
  });

  it('is undefined without a population, when a filter matches nothing, or on impossible counts', () => {
    for (const c of [{ total: 0, f1: 0, f2: 0, joint: 0 }, { total: 5, f1: 0, f2: 3, joint: 0 }, { total: 5, f1: 2, f2: 2, joint: 3 }]) {
      const r = npmiOf(c);
      expect(Number.isNaN(r.npmi) && Number.isNaN(r.smoothed)).toBe(true);
    }
  });
});
