import { artifactKey } from '../../blobs/keys.js';
import type { Deps } from '../../deps.js';
import { decodeOffsetToken } from '../../lib/page-token.js';
import { listStoredFolder, type ListedFolder } from '../artifacts-runs.js';
import { getLoggedModel } from './logged-models.js';

/**
 * One folder of a logged model's artifacts (`GET /mlflow/logged-models/{id}/artifacts/directories`,
 * used by the UI), paths relative to the model's artifact root, as the run listing does. Cairn lists
 * only the stores it was configured with, never a location a client chose.
 */
export async function listLoggedModelArtifacts(
  deps: Deps,
  input: { model_id: string; artifact_directory_path?: string; page_token?: string },
): Promise<ListedFolder> {
  const rel = input.artifact_directory_path ? artifactKey(input.artifact_directory_path, { decoded: true, allowRoot: true }) : '';
  const offset = decodeOffsetToken(input.page_token);
  const model = await getLoggedModel(deps, input.model_id);
  return listStoredFolder(deps, { rootUri: model.info.artifact_uri, rel, offset, owner: 'model' });
}
