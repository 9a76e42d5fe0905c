import { artifactKey, joinKey } from '../../blobs/keys.js';
import type { BlobStore } from '../../blobs/store.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { decodeOffsetToken, encodeOffsetToken } from '../../lib/page-token.js';
import { proxiedKeyOf } from '../artifacts-location.js';
import type { FileInfoWire } from '../artifacts.js';
import { getLoggedModel } from './logged-models.js';

const PAGE_SIZE = 1000;

/**
 * One folder of a logged model's artifacts (`GET /mlflow/logged-models/{id}/artifacts/directories`,
 * used by the UI), paths relative to the model's artifact root, as the run listing does. Cairn lists
 * only the stores it was configured with, never a location a client chose.
 */
export async function listLoggedModelArtifacts(
  deps: Deps,
  input: { model_id: string; artifact_directory_path?: string; page_token?: string },
): Promise<{ root_uri: string; files: FileInfoWire[]; next_page_token?: string }> {
  const rel = input.artifact_directory_path ? artifactKey(input.artifact_directory_path, { decoded: true, allowRoot: true }) : '';
  const offset = decodeOffsetToken(input.page_token);
  const model = await getLoggedModel(deps, input.model_id);
  const rootUri = model.info.artifact_uri;
  const { store, baseKey } = storeFor(deps, rootUri);
  const entries = await store.list(joinKey(baseKey, rel));
  const files = entries.slice(offset, offset + PAGE_SIZE).map((e): FileInfoWire => {
    const path = joinKey(rel, e.name);
    return e.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: e.size ?? 0 };
  });
  const out: { root_uri: string; files: FileInfoWire[]; next_page_token?: string } = { root_uri: rootUri, files };
  if (entries.length > offset + PAGE_SIZE) out.next_page_token = encodeOffsetToken(offset + PAGE_SIZE);
  return out;
}

// The same choice as the run listing (domain/artifacts-runs.ts): the proxy's store for
// mlflow-artifacts: URIs, the default artifact root's store for locations under it.
function storeFor(deps: Deps, uri: string): { store: BlobStore; baseKey: string } {
  const proxied = proxiedKeyOf(uri);
  if (proxied !== undefined) return { store: deps.blobs, baseKey: proxied };
  const root = deps.config.defaultArtifactRoot.replace(/\/+$/, '');
  if (deps.artifactRootBlobs && uri.startsWith(`${root}/`)) {
    return { store: deps.artifactRootBlobs, baseKey: artifactKey(uri.slice(root.length + 1), { decoded: true, allowRoot: true }) };
  }
  throw invalidParam(
    `Cairn lists artifacts only in its own stores; this model's artifacts live at '${uri}'. List them with the client, which reads that location directly.`,
  );
}
