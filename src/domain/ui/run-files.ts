import type { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { artifactKey, baseName, joinKey } from '../../blobs/keys.js';
import type { BlobStore } from '../../blobs/store.js';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError, notFound } from '../../errors.js';
import { storeFor } from '../artifacts-runs.js';
import { guessContentType } from '../artifacts-mime.js';
import { checkRunId } from '../ids.js';

// A run's files (W&B media, output.log, anything below its artifact root) read from the store Cairn
// was configured with for that root; a run whose artifacts live elsewhere has no files here.

export interface RunRecord {
  run_id: string;
  status: string;
  artifact_uri: string;
  lifecycle_stage: string;
}

export async function requireRun(db: Orm, runId: string): Promise<RunRecord> {
  checkRunId(runId);
  const found = await rows<RunRecord>(db, sql`select run_id, status, artifact_uri, lifecycle_stage from runs where run_id = ${runId}`);
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
  return found[0];
}

/** The store and key of a file below the run's artifact root, or undefined when Cairn cannot read that root. */
export function runFileLocation(deps: Deps, run: RunRecord, path: string): { store: BlobStore; key: string } | undefined {
  const rel = artifactKey(path, { decoded: true });
  try {
    const { store, baseKey } = storeFor(deps, run.artifact_uri, 'run');
    return { store, key: joinKey(baseKey, rel) };
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'INVALID_PARAMETER_VALUE') return undefined;
    throw err;
  }
}

// Raster images and text may be shown inline by the UI; anything that a browser could run (HTML,
// SVG) or does not know is sent as an attachment, and every answer carries a sandboxing CSP.
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'text/plain', 'application/json']);

export interface OpenedRunFile {
  body: Readable;
  size: number;
  fileName: string;
  contentType: string;
  inline: boolean;
}

export async function openRunFile(deps: Deps, input: { run_id: string; path: string }): Promise<OpenedRunFile> {
  const run = await requireRun(deps.db, input.run_id);
  const where = runFileLocation(deps, run, input.path);
  if (!where) throw notFound(`Run ${run.run_id} keeps its files outside Cairn's stores (${run.artifact_uri})`);
  const { body, size } = await where.store.get(where.key);
  const fileName = baseName(where.key);
  const contentType = fileName.endsWith('.json') ? 'application/json' : guessContentType(fileName);
  return { body, size, fileName, contentType, inline: INLINE_TYPES.has(contentType) };
}

/** The whole of a small file as text; undefined when it is missing or larger than `maxBytes`. */
export async function readSmallRunFile(deps: Deps, run: RunRecord, path: string, maxBytes: number): Promise<string | undefined> {
  let where;
  try {
    where = runFileLocation(deps, run, path);
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'INVALID_PARAMETER_VALUE') return undefined;
    throw err;
  }
  if (!where) return undefined;
  let opened;
  try {
    opened = await where.store.get(where.key);
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw err;
  }
  if (opened.size > maxBytes) {
    opened.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
