import { crc32 } from 'node:zlib';

/**
 * The framing of a W&B offline run's `run-<id>.wandb` file (LevelDB's log format with a W&B header):
 *   header: ":W&B" | uint16 magic 0xBEE1 | uint8 version 0                      (7 bytes)
 *   then 32 KiB blocks of chunks: uint32 CRC-32 (zlib's, unmasked) of (type byte + data) | uint16 length | uint8 type | data
 * A record is one FULL chunk, or FIRST, MIDDLE..., LAST; a block's tail shorter than a chunk header is
 * zero padding. Each record is a serialized `wandb_internal.Record`.
 */
const BLOCK = 32 * 1024;
const HEADER = 7;
const CHUNK_HEADER = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

export interface RecordLog {
  records: Uint8Array[];
  /** Why reading stopped early (corrupt or truncated); the records before it are kept. */
  error?: string;
}

export function readRecordLog(buf: Buffer): RecordLog {
  const records: Uint8Array[] = [];
  if (buf.length < HEADER || buf.toString('latin1', 0, 4) !== ':W&B' || buf.readUInt16LE(4) !== 0xbee1) {
    return { records, error: 'not a W&B run log (no :W&B header)' };
  }
  if (buf[6] !== 0) return { records, error: `unsupported W&B run log version ${buf[6]}` };
  let at = HEADER;
  let pending: Uint8Array[] | undefined;
  while (at < buf.length) {
    const left = BLOCK - (at % BLOCK);
    if (left < CHUNK_HEADER) {
      at += left; // block padding
      continue;
    }
    if (at + CHUNK_HEADER > buf.length) return { records, error: `ends inside a chunk header at byte ${at}` };
    const crc = buf.readUInt32LE(at);
    const length = buf.readUInt16LE(at + 4);
    const type = buf[at + 6];
    // A zero header is the writer's preallocated or padded space: nothing more was written.
    if (crc === 0 && length === 0 && type === 0) break;
    if (length > left - CHUNK_HEADER) return { records, error: `chunk at byte ${at} crosses its block` };
    if (at + CHUNK_HEADER + length > buf.length) return { records, error: `ends inside a record at byte ${at} (${length} bytes announced)` };
    const data = buf.subarray(at + CHUNK_HEADER, at + CHUNK_HEADER + length);
    if (crc32(buf.subarray(at + 6, at + CHUNK_HEADER + length)) !== crc) return { records, error: `bad checksum in the record at byte ${at}` };
    if (type === FULL && !pending) records.push(data);
    else if (type === FIRST && !pending) pending = [data];
    else if ((type === MIDDLE || type === LAST) && pending) {
      pending.push(data);
      if (type === LAST) {
        records.push(Buffer.concat(pending));
        pending = undefined;
      }
    } else return { records, error: `unexpected chunk type ${type} at byte ${at}` };
    at += CHUNK_HEADER + length;
  }
  return pending ? { records, error: 'ends inside a record split across blocks' } : { records };
}
