import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/importers/transfer.js';

/** A source that records when each read starts and whether it was let go of (its finally ran). */
function source(items: number[], failAt?: number) {
  const log: string[] = [];
  async function* gen() {
    try {
      for (const [i, item] of items.entries()) {
        log.push(`read ${item}`);
        await new Promise((r) => setTimeout(r, 1));
        if (i === failAt) throw new Error(`read ${item} failed`);
        yield item;
      }
    } finally {
      log.push('closed');
    }
  }
  return { log, items: gen() };
}

describe('readAhead', () => {
  it('starts the first read at once and each next one before the caller asks for it', async () => {
    const src = source([1, 2, 3]);
    const ahead = readAhead(src.items);
    await new Promise((r) => setTimeout(r, 5));
    expect(src.log).toEqual(['read 1']);
    const got: number[] = [];
    for await (const item of ahead) {
      got.push(item);
      // While the caller works on this item, the next one is being read already (one, not more).
      expect(src.log.filter((l) => l.startsWith('read'))).toHaveLength(Math.min(item + 1, 3));
    }
    expect(got).toEqual([1, 2, 3]);
    expect(src.log.at(-1)).toBe('closed');
  });

  it('throws a failed read where its item is consumed, after the items before it', async () => {
    const src = source([1, 2, 3], 1);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(src.items)) got.push(item);
      })(),
    ).rejects.toThrow('read 2 failed');
    expect(got).toEqual([1]);
  });

  it('lets go of the source when closed before its end, and a read left in flight is no unhandled rejection', async () => {
    const src = source([1, 2, 3], 0);
    const ahead = readAhead(src.items);
    ahead.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(src.log).toEqual(['read 1', 'closed']);
    const other = source([1, 2, 3]);
    const partial = readAhead(other.items);
    for await (const item of partial) if (item === 1) break;
    partial.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(other.log).toEqual(['read 1', 'read 2', 'closed']);
  });
});
