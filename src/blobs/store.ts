import type { Readable } from 'node:stream';
import { MlflowError } from '../errors.js';

/** One child of a listed folder: a basename, never a path. */
export interface BlobEntry {
  name: string;
  isDir: boolean;
  /** Files only. */
  size?: number;
}

export interface BlobObject {
  body: Readable;
  /** Bytes in body: the object's size, or the range's length when one was asked for. */
  size: number;
}

/** Inclusive byte offsets, as in an HTTP Range header; the caller checks them against the size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PresignedPart {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Uploads whose parts the client sends straight to the backend through presigned URLs. */
export interface MultipartUploads {
  create(key: string, numParts: number): Promise<{ uploadId: string; parts: PresignedPart[] }>;
  complete(key: string, uploadId: string, parts: CompletedPart[]): Promise<void>;
  abort(key: string, uploadId: string): Promise<void>;
}

/**
 * What `put` takes: a stream, or bytes the server built itself (a trace's spans, a manifest). Bytes
 * skip the stream machinery, which costs more than the file system calls for a small file.
 */
export type BlobBody = Readable | Uint8Array;

/**
 * Where artifact bytes live. Keys are relative POSIX paths already checked by `artifactKey`
 * (src/blobs/keys.ts); '' is the store's root. Bodies from clients are streams both ways, never
 * buffered.
 */
export interface BlobStore {
  /** For messages and logs: "/srv/artifacts" or "s3://bucket/prefix". Holds no secret. */
  readonly location: string;
  /** Stores the whole body under key (replacing any object there); nothing is visible until it succeeds. */
  put(key: string, body: BlobBody, contentType?: string): Promise<void>;
  /** Throws RESOURCE_DOES_NOT_EXIST when there is no object (a folder is not an object). */
  get(key: string, range?: ByteRange): Promise<BlobObject>;
  /** Size of the object, RESOURCE_DOES_NOT_EXIST when there is none. */
  head(key: string): Promise<{ size: number }>;
  /** Immediate children of a folder, sorted by name; [] for a file or a missing folder. */
  list(dirKey: string): Promise<BlobEntry[]>;
  /** Removes the object and everything below key. Missing is fine. */
  delete(key: string): Promise<void>;
  /** Absent where the backend cannot hand out presigned part URLs. */
  readonly multipart?: MultipartUploads;
  /** Absent where the backend cannot hand out a presigned download URL. */
  presignGet?(key: string, ttlSeconds: number): Promise<{ url: string; size: number }>;
  /** Where the backend can be unreachable or refuse (S3): confirms it answers, at start-up. */
  check?(): Promise<void>;
  close(): Promise<void>;
}

/** The store failed for a reason of its own (down, misconfigured, out of space): retryable, 503. */
export function storeUnavailable(location: string, reason: string): MlflowError {
  return new MlflowError('TEMPORARILY_UNAVAILABLE', `The artifact store ${location} is unavailable: ${reason}`);
}

/** Runs one backend operation; whatever it throws becomes the error `translate` picks for it. */
export async function storeCall<T>(op: () => Promise<T>, translate: (err: unknown) => Error): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw translate(err);
  }
}
