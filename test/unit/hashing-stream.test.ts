import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { hashing } from '../../src/domain/wandb/artifacts-blobs.js';

// The W&B artifact paths hash a body while a blob store writes it. A body that fails before the
// store has attached to the hashing stream (a multipart join whose first part is missing) once
// left an 'error' event nobody heard, which ends the process; CI caught it as an uncaught error.
describe('hashing', () => {
  it('keeps an early failure of the body for the consumer to read, with no unheard error event', async () => {
    const body = Readable.from((async function* () {
      throw new Error('part 1 is missing');
    })());
    const { stream } = hashing(body);
    await sleep(20);
    expect(stream.errored?.message).toBe('part 1 is missing');
    await expect(pipeline(stream, new Writable({ write: (_c, _e, done) => done() }))).rejects.toThrow('part 1 is missing');
  });

  it('hashes what passes through', async () => {
    const { stream, result } = hashing(Readable.from([Buffer.from('cairn')]));
    await pipeline(stream, new Writable({ write: (_c, _e, done) => done() }));
    expect(result()).toEqual({ md5: 'h/KVmdBtrWPrBn2fH3+3dQ==', size: 5 });
  });
});
