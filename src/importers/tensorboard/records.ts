import { open } from 'node:fs/promises';

/**
 * TFRecord framing, as TensorBoard's event files use it: each record is
 *   uint64 length | uint32 masked CRC32C of the length | data | uint32 masked CRC32C of the data
 * (little-endian). Both checksums are checked; a bad one or a file that ends mid-record is a
 * RecordError naming the byte offset, after the good records before it were yielded.
 */
export class RecordError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** the file ends inside this record (a writer still running, or killed mid-write) */
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1; // Castagnoli, reflected
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking: rotate right by 15 and add a constant, so a CRC of CRC'd data is not trivial. */
export const maskedCrc32c = (data: Uint8Array) => {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

const CHUNK = 1 << 20;
/** A record longer than this is not a real event (TensorBoard's own reader refuses far smaller). */
const MAX_RECORD = 1 << 30;

export interface TfRecord {
  offset: number;
  data: Uint8Array;
}

/** Reads `path`'s records one by one, from `start` (a record's offset) on, a chunk of the file at a time. */
export async function* readRecords(path: string, start = 0, limit = Infinity): AsyncGenerator<TfRecord> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let buf = Buffer.alloc(0);
    let bufAt = start; // file offset of buf[0]
    const need = async (at: number, n: number): Promise<Buffer | undefined> => {
      if (at + n > size) return undefined;
      if (at < bufAt || at + n > bufAt + buf.length) {
        const want = Math.max(n, CHUNK);
        const next = Buffer.alloc(Math.min(want, size - at));
        const { bytesRead } = await fh.read(next, 0, next.length, at);
        buf = next.subarray(0, bytesRead);
        bufAt = at;
        if (bytesRead < n) return undefined;
      }
      return buf.subarray(at - bufAt, at - bufAt + n);
    };
    let count = 0;
    for (let at = start; at < size && count < limit; count++) {
      const head = await need(at, 12);
      if (!head) throw new RecordError(`ends inside a record header at byte ${at} (of ${size})`, at, true);
      const length = head.readBigUInt64LE(0);
      if (maskedCrc32c(head.subarray(0, 8)) !== head.readUInt32LE(8)) throw new RecordError(`bad length checksum at byte ${at}`, at, false);
      if (length > BigInt(MAX_RECORD)) throw new RecordError(`record of ${length} bytes at byte ${at}`, at, false);
      const n = Number(length);
      const body = await need(at + 12, n + 4);
      if (!body) throw new RecordError(`ends inside the record at byte ${at} (${n} bytes announced, file has ${size})`, at, true);
      const data = Uint8Array.prototype.slice.call(body, 0, n) as Uint8Array;
      if (maskedCrc32c(data) !== body.readUInt32LE(n)) throw new RecordError(`bad data checksum in the record at byte ${at}`, at, false);
      yield { offset: at, data };
      at += 12 + n + 4;
    }
  } finally {
    await fh.close();
  }
}
