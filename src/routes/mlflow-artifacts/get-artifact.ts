import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { checkModelVersionArtifact, openLoggedModelArtifact, openModelVersionArtifact, openRunArtifact } from '../../domain/artifacts-owned.js';
import type { ArtifactDownload } from '../../domain/artifacts.js';
import type { Access } from '../../auth/policy.js';
import { MlflowError } from '../../errors.js';
import { guard, type Router } from '../define.js';
import { errorResponse, tag } from './paths.js';
import { sendArtifact } from './proxy.js';

const binary = z.string().openapi({ format: 'binary' });
const fileResponse = { 200: { description: 'The file, as an attachment', content: { 'application/octet-stream': { schema: binary } } }, ...errorResponse };

/**
 * The download routes MLflow's server keeps outside /api (its UI's artifact previews and older
 * clients use them), and a logged model's file download. Same headers as the proxy's downloads.
 */
export function ownedArtifactRoutes(r: Router): void {
  const { app, deps, knownPaths } = r;
  const route = (
    path: string, docPath: string, summary: string, query: z.ZodObject, open: (c: Context) => Promise<ArtifactDownload>,
    access: Access, resourceOf: (c: Context) => Record<string, unknown>,
  ) => {
    app.openAPIRegistry.registerPath({ method: 'get', path: docPath, tags: [tag], summary, request: docPath.includes('{model_id}') ? { query, params: z.object({ model_id: z.string() }) } : { query }, responses: fileResponse });
    knownPaths.add(path);
    app.get(path, guard(r, access, async (c) => sendArtifact(c, await open(c), c.req.method === 'HEAD'), resourceOf));
  };
  route('/get-artifact', '/get-artifact', "Download one of a run's artifacts",
    z.object({ run_id: z.string().optional(), run_uuid: z.string().optional(), path: z.string() }),
    (c) => openRunArtifact(deps, { run_id: c.req.query('run_id'), run_uuid: c.req.query('run_uuid'), path: c.req.query('path') }),
    'experiment:read', (c) => ({ run_id: c.req.query('run_id'), run_uuid: c.req.query('run_uuid') }));
  route('/model-versions/get-artifact', '/model-versions/get-artifact', "Download one of a model version's files",
    z.object({ name: z.string(), version: z.string(), path: z.string(), presigned: z.enum(['true', 'false']).optional() }),
    (c) => {
      // server-info says no presigned model-artifact URLs are handed out; a caller asking anyway gets
      // the real server's answer for a store that cannot sign, not the file's bytes.
      // The version is looked up first, as the real server does: a missing one is a 404, not the 501.
      const input = { name: c.req.query('name'), version: c.req.query('version'), path: c.req.query('path') };
      if (c.req.query('presigned') !== 'true') return openModelVersionArtifact(deps, input);
      return checkModelVersionArtifact(deps, input).then(() => {
        throw new MlflowError('NOT_IMPLEMENTED', 'Presigned download is not supported for the current artifact repository');
      });
    },
    'model:read', (c) => ({ name: c.req.query('name') }));
  for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
    route(`${prefix}/mlflow/logged-models/:model_id/artifacts/files`, `${prefix}/mlflow/logged-models/{model_id}/artifacts/files`,
      "Download one of a logged model's files", z.object({ artifact_file_path: z.string() }),
      (c) => openLoggedModelArtifact(deps, c.req.param('model_id') ?? '', c.req.query('artifact_file_path')),
      'experiment:read', (c) => ({ model_id: c.req.param('model_id') }));
  }
}
