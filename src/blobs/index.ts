import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsBlobStore } from './fs.js';
import type { S3Settings } from './s3.js';
import type { BlobStore } from './store.js';

export type { BlobEntry, BlobObject, BlobStore } from './store.js';
export type { S3Settings } from './s3.js';

export type StoreUri = { kind: 's3'; bucket: string; prefix: string } | { kind: 'fs'; root: string };

// S3 bucket names: 3–63 of lowercase letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Where a store lives: `s3://bucket[/prefix]`, `file:///abs/path`, or a plain folder path.
 * Returns undefined for anything else (another cloud, http, a malformed bucket), which the caller
 * reports in its own words.
 */
export function parseStoreUri(uri: string): StoreUri | undefined {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!BUCKET.test(bucket)) return undefined;
    if (/[?#;\\]|(^|\/)\.\.?(\/|$)|\/\//.test(prefix)) return undefined;
    return { kind: 's3', bucket, prefix };
  }
  if (uri.startsWith('file:')) {
    try {
      return { kind: 'fs', root: fileURLToPath(uri) };
    } catch {
      return undefined;
    }
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(uri)) return undefined;
  return { kind: 'fs', root: path.resolve(uri) };
}

/** The AWS SDK is loaded only for an s3:// store: it is a third of a second of every start-up otherwise. */
export async function createBlobStore(uri: StoreUri, s3: S3Settings): Promise<BlobStore> {
  if (uri.kind === 'fs') return new FsBlobStore(uri.root);
  const { S3BlobStore } = await import('./s3.js');
  return new S3BlobStore(uri.bucket, uri.prefix, s3);
}
