import { describe, expect, it } from 'vitest';
import { protoTimestamp } from '../../src/lib/proto-time.js';

// The reference: toISOString, without the fraction for a whole second.
const reference = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
};

describe('protoTimestamp', () => {
  it('writes what toISOString writes, the fraction only when there is one, across minutes', () => {
    const times = [0, 1, 7, 10, 99, 100, 999, 1000, 59_999, 60_000, 60_001, 1_767_000_000_000, 1_767_000_059_999, 1_767_000_060_000,
      253_402_300_799_999, 253_402_300_800_000, -1, -60_001, -62_198_755_200_000];
    // In order, out of order, and each twice: the remembered minute must never leak into another.
    for (const ms of [...times, ...[...times].reverse(), ...times.flatMap((t) => [t, t])]) expect(protoTimestamp(ms), String(ms)).toBe(reference(ms));
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(Math.random() * 253_402_300_799_999);
      expect(protoTimestamp(ms)).toBe(reference(ms));
      expect(protoTimestamp(ms + 13)).toBe(reference(ms + 13));
    }
    expect(protoTimestamp(1_767_000_003_000)).toBe('2025-12-29T09:20:03Z');
    expect(protoTimestamp(1_767_000_003_007)).toBe('2025-12-29T09:20:03.007Z');
  });
});
