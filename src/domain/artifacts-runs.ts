import { sql } from 'drizzle-orm';
import { artifactKey, joinKey } from '../blobs/keys.js';
import type { BlobStore } from '../blobs/store.js';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import { decodeOffsetToken, encodeOffsetToken } from '../lib/page-token.js';
import { proxiedKeyOf } from './artifacts-location.js';
import type { FileInfoWire } from './artifacts.js';
import { checkRunId } from './ids.js';

const PAGE_SIZE = 1000;

export type ListedFolder = { root_uri: string; files?: FileInfoWire[]; next_page_token?: string };

/**
 * The tracking-side listing (`GET /mlflow/artifacts/list`, used by the UI): one folder of a run's
 * artifacts, paths relative to the run's root. Cairn lists only stores it was configured with,
 * never a location a client chose, so a run cannot make the server read elsewhere.
 */
export async function listRunArtifacts(
  deps: Deps,
  input: { run_id: string; path?: string; page_token?: string },
): Promise<ListedFolder> {
  checkRunId(input.run_id);
  const rel = input.path ? artifactKey(input.path, { decoded: true, allowRoot: true }) : '';
  const offset = decodeOffsetToken(input.page_token);
  const found = await rows<{ artifact_uri: string }>(deps.db, sql`select artifact_uri from runs where run_id = ${input.run_id}`);
  if (!found.length) throw notFound(`Run with id=${input.run_id} not found`);
  return listStoredFolder(deps, { rootUri: found[0].artifact_uri, rel, offset, owner: 'run' });
}

/**
 * One page of the folder `rel` below an artifact root (a run's or a logged model's), read from the
 * store Cairn was configured with for that root: the proxy's store for mlflow-artifacts: URIs, the
 * default artifact root's store for locations under it. Any other location is refused.
 */
export async function listStoredFolder(
  deps: Deps,
  input: { rootUri: string; rel: string; offset: number; owner: 'run' | 'model' },
): Promise<ListedFolder> {
  const { rootUri, rel, offset } = input;
  const { store, baseKey } = storeFor(deps, rootUri, input.owner);
  const entries = await store.list(joinKey(baseKey, rel));
  const files = entries.slice(offset, offset + PAGE_SIZE).map((e): FileInfoWire => {
    const path = joinKey(rel, e.name);
    return e.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: e.size ?? 0 };
  });
  // No files: the field is absent, as MLflow writes an empty repeated field.
  const out: ListedFolder = files.length ? { root_uri: rootUri, files } : { root_uri: rootUri };
  if (entries.length > offset + PAGE_SIZE) out.next_page_token = encodeOffsetToken(offset + PAGE_SIZE);
  return out;
}

export function storeFor(deps: Deps, uri: string, owner: 'run' | 'model'): { store: BlobStore; baseKey: string } {
  const proxied = proxiedKeyOf(uri);
  if (proxied !== undefined) return { store: deps.blobs, baseKey: proxied };
  const root = deps.config.defaultArtifactRoot.replace(/\/+$/, '');
  if (deps.artifactRootBlobs && uri.startsWith(`${root}/`)) {
    return { store: deps.artifactRootBlobs, baseKey: artifactKey(uri.slice(root.length + 1), { decoded: true, allowRoot: true }) };
  }
  throw invalidParam(
    `Cairn lists artifacts only in its own stores; this ${owner}'s artifacts live at '${uri}'. List them with the client, which reads that location directly.`,
  );
}
