import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRecord } from '../../src/importers/wandb/offline-record.js';
import { readRecordLog } from '../../src/importers/wandb/record-log.js';

const BLOCK = 32 * 1024;
const header = () => Buffer.concat([Buffer.from(':W&B', 'latin1'), Buffer.from([0xe1, 0xbe, 0])]);

/** Frames records as a LevelDB-style log writer does: chunks split at 32 KiB block ends, tails padded. */
function log(records: Buffer[]): Buffer {
  const parts: Buffer[] = [header()];
  let at = 7;
  for (const rec of records) {
    let rest = rec;
    let first = true;
    do {
      let left = BLOCK - (at % BLOCK);
      if (left < 7) {
        parts.push(Buffer.alloc(left));
        at += left;
        left = BLOCK;
      }
      const n = Math.min(rest.length, left - 7);
      const last = n === rest.length;
      const type = first && last ? 1 : first ? 2 : last ? 4 : 3;
      const head = Buffer.alloc(7);
      const data = rest.subarray(0, n);
      head.writeUInt32LE(crc32(Buffer.concat([Buffer.from([type]), data])));
      head.writeUInt16LE(n, 4);
      head[6] = type;
      parts.push(head, data);
      at += 7 + n;
      rest = rest.subarray(n);
      first = false;
    } while (rest.length);
  }
  return Buffer.concat(parts);
}

/** protobuf: a length-delimited field (field numbers and lengths here fit one byte or a short varint). */
function ld(no: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const len: number[] = [];
  let n = b.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n);
  const key = no << 3 | 2;
  const keyBytes = key > 0x7f ? [(key & 0x7f) | 0x80, key >> 7] : [key];
  return Buffer.concat([Buffer.from(keyBytes), Buffer.from(len), b]);
}

const historyRecord = (i: number, pad = '') =>
  ld(2, Buffer.concat([ld(1, Buffer.concat([ld(1, '_step'), ld(16, String(i))])), ld(1, Buffer.concat([ld(2, 'acc'), ld(2, 'top1'), ld(16, `"${pad}"`)]))]));

describe('W&B offline run log', () => {
  it('reads records whole, also those split across 32 KiB blocks', () => {
    const recs = [historyRecord(0), historyRecord(1, 'x'.repeat(70_000)), historyRecord(2)];
    const out = readRecordLog(log(recs));
    expect(out.error).toBeUndefined();
    expect(out.records.map((r) => Buffer.from(r))).toEqual(recs);
    const decoded = decodeRecord(out.records[1]);
    expect(decoded).toMatchObject({ kind: 'history', items: [{ path: ['_step'], valueJson: '1' }, { path: ['acc', 'top1'] }] });
  });

  it('keeps the records before a cut or a bad checksum and says where it stopped', () => {
    const whole = log([historyRecord(0), historyRecord(1), historyRecord(2)]);
    const cut = readRecordLog(whole.subarray(0, whole.length - 3));
    expect(cut.records).toHaveLength(2);
    expect(cut.error).toMatch(/ends inside a record at byte \d+/);

    const bad = Buffer.from(whole);
    bad[bad.length - 1] ^= 0xff;
    const flipped = readRecordLog(bad);
    expect(flipped.records).toHaveLength(2);
    expect(flipped.error).toMatch(/bad checksum/);
  });

  it('refuses a file without the W&B header', () => {
    expect(readRecordLog(Buffer.from('not a log at all')).error).toMatch(/no :W&B header/);
  });
});
