import { pipeline, Transform, type Readable } from 'node:stream';
import type { BlobBody, BlobStore } from './store.js';

/**
 * A store that counts the bytes going in and out (for /metrics), by passing each body through a
 * counting transform: a listener on the body itself would start it flowing before its reader is there.
 */
export function meteredBlobStore(store: BlobStore, count: (direction: 'in' | 'out', bytes: number) => void): BlobStore {
  const counted = (body: Readable, direction: 'in' | 'out'): Readable =>
    pipeline(
      body,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          count(direction, chunk.length);
          done(null, chunk);
        },
      }),
      () => {},
    );
  return {
    get location() {
      return store.location;
    },
    get multipart() {
      return store.multipart;
    },
    put: (key, body: BlobBody, contentType) => {
      if (!(body instanceof Uint8Array)) return store.put(key, counted(body, 'in'), contentType);
      // Counted once it is stored, as a stream's bytes are counted as they go in.
      return store.put(key, body, contentType).then(() => count('in', body.length));
    },
    get: async (key, range) => {
      const object = await store.get(key, range);
      return { ...object, body: counted(object.body, 'out') };
    },
    head: (key) => store.head(key),
    list: (dirKey) => store.list(dirKey),
    delete: (key) => store.delete(key),
    presignGet: store.presignGet ? (key, ttl) => store.presignGet!(key, ttl) : undefined,
    check: store.check ? () => store.check!() : undefined,
    close: () => store.close(),
  };
}
