// Group commit (src/lib/group-commit.ts), which OTLP span ingestion writes through: callers that
// arrive together share one write, each is answered only after that write, and one caller's
// failure stays its own. The write here records its batches instead of touching a database.
import { describe, expect, it } from 'vitest';
import { GroupCommit, type GroupCommitOptions } from '../../src/lib/group-commit.js';

type Item = { n: number; weight?: number; refuse?: boolean; poison?: boolean };

function committer(over: Partial<GroupCommitOptions<Item>> = {}) {
  const batches: number[][] = [];
  const committed: number[] = [];
  const gc = new GroupCommit<Item>({
    write: async (items) => {
      batches.push(items.map((i) => i.n));
      // A poisoned item makes the whole write throw (as a value the database refuses would).
      if (items.some((i) => i.poison)) throw new Error('write failed');
      const out = items.map((i) => (i.refuse ? new Error(`refused ${i.n}`) : undefined));
      items.forEach((i, k) => !out[k] && committed.push(i.n));
      return out;
    },
    maxItems: 100,
    maxWeight: 1000,
    weight: (i) => i.weight ?? 1,
    concurrency: 1,
    isOutage: (err) => (err as Error).message === 'outage',
    ...over,
  });
  return { gc, batches, committed };
}

const settle = (ps: Promise<void>[]) => Promise.allSettled(ps).then((r) => r.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as Error).message)));

describe('GroupCommit', () => {
  it('writes callers that arrive together in one batch and answers each after it', async () => {
    const { gc, batches, committed } = committer();
    const answered = await Promise.all(Array.from({ length: 50 }, (_, n) => gc.submit({ n }).then(() => committed.includes(n))));
    expect(answered).toEqual(Array.from({ length: 50 }, () => true));
    expect(batches).toEqual([Array.from({ length: 50 }, (_, n) => n)]);
  });

  it('takes callers that arrive during a write into the next one, in order', async () => {
    const { gc, batches } = committer();
    const first = gc.submit({ n: 0 });
    // Submitted after the first write has started (one event-loop turn later).
    await new Promise((r) => setImmediate(r));
    const later = [1, 2, 3].map((n) => gc.submit({ n }));
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });

  it('refuses one caller alone when the write answers an error for it', async () => {
    const { gc, committed } = committer();
    const results = await settle([0, 1, 2].map((n) => gc.submit({ n, refuse: n === 1 })));
    expect(results).toEqual(['ok', 'refused 1', 'ok']);
    expect(committed).toEqual([0, 2]);
  });

  it('retries a batch that failed as a whole one by one, so only the faulty caller fails', async () => {
    const { gc, batches, committed } = committer();
    const results = await settle([0, 1, 2].map((n) => gc.submit({ n, poison: n === 2 })));
    expect(results).toEqual(['ok', 'ok', 'write failed']);
    expect(committed).toEqual([0, 1]);
    expect(batches).toEqual([[0, 1, 2], [0], [1], [2]]);
  });

  it('fails the whole batch on an outage, without retries', async () => {
    const { gc, batches } = committer({ write: async (items) => { batches.push(items.map((i) => i.n)); throw new Error('outage'); } });
    expect(await settle([0, 1].map((n) => gc.submit({ n })))).toEqual(['outage', 'outage']);
    expect(batches).toEqual([[0, 1]]);
  });

  it('splits batches at the item and weight limits, a heavy caller still alone in one', async () => {
    const { gc, batches } = committer({ maxItems: 2, maxWeight: 10 });
    await Promise.all([
      gc.submit({ n: 0 }), gc.submit({ n: 1 }), gc.submit({ n: 2 }),
      gc.submit({ n: 3, weight: 9 }), gc.submit({ n: 4, weight: 50 }), gc.submit({ n: 5 }),
    ]);
    expect(batches).toEqual([[0, 1], [2, 3], [4], [5]]);
  });

  it('keeps up to `concurrency` writes under way', async () => {
    let inFlight = 0;
    let most = 0;
    const gc = new GroupCommit<Item>({
      write: async (items) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return items.map(() => undefined);
      },
      maxItems: 1, maxWeight: 1, weight: () => 1, concurrency: 2, isOutage: () => false,
    });
    await Promise.all(Array.from({ length: 6 }, (_, n) => gc.submit({ n })));
    expect(most).toBe(2);
  });
});
