import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { safeKey } from '../../src/importers/tensorboard/source.js';
import { crc32c, maskedCrc32c, readRecords, RecordError } from '../../src/importers/tensorboard/records.js';

/** One TFRecord framed as TensorFlow's writer frames it. */
function frame(data: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const crcs = [maskedCrc32c(len), maskedCrc32c(data)].map((c) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(c);
    return b;
  });
  return Buffer.concat([len, crcs[0], data, crcs[1]]);
}

async function read(bytes: Buffer): Promise<{ records: string[]; error?: RecordError }> {
  const path = join(await mkdtemp(join(tmpdir(), 'cairn-tfrecord-')), 'events.out.tfevents.1');
  await writeFile(path, bytes);
  const records: string[] = [];
  try {
    for await (const r of readRecords(path)) records.push(Buffer.from(r.data).toString());
    return { records };
  } catch (err) {
    return { records, error: err as RecordError };
  }
}

describe('TFRecord reader', () => {
  it('computes CRC32C (Castagnoli) as its check value says', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('reads every record, and keeps the ones before a truncated or corrupt one', async () => {
    const good = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two'))]);
    expect(await read(good)).toEqual({ records: ['one', 'two'] });

    const cut = await read(good.subarray(0, good.length - 2));
    expect(cut.records).toEqual(['one']);
    expect(cut.error).toBeInstanceOf(RecordError);
    expect(cut.error).toMatchObject({ truncated: true, offset: 19 });

    const flipped = Buffer.from(good);
    flipped[19 + 12] ^= 0xff; // the second record's first data byte
    const bad = await read(flipped);
    expect(bad.records).toEqual(['one']);
    expect(bad.error?.message).toBe('bad data checksum in the record at byte 19');
    expect(bad.error?.truncated).toBe(false);
  });
});

describe('TensorBoard tags as MLflow keys', () => {
  it('keeps the allowed characters and never reads as another path', () => {
    expect(safeKey('train/loss')).toBe('train/loss');
    expect(safeKey('acc@top-1 (val)')).toBe('acc_top-1 _val_');
    expect(safeKey('../x//y/.')).toBe('x/y');
    expect(safeKey('')).toBe('_');
  });
});
