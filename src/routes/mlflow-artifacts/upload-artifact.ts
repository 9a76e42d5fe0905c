import { z } from '@hono/zod-openapi';
import { checkRunUpload, UI_UPLOAD_MAX_BYTES, UI_UPLOAD_TOO_LARGE, uploadRunArtifact } from '../../domain/artifacts-owned.js';
import { invalidParam } from '../../errors.js';
import { readBodyCapped } from '../../lib/request-body.js';
import { guard, type Router } from '../define.js';
import { errorResponse, tag } from './paths.js';

const PATH = '/ajax-api/2.0/mlflow/upload-artifact';

/**
 * The UI's one-file upload into a run's artifacts (MLflow serves it under /ajax-api only). The
 * arguments are in the query string and the body is the file itself, at most 10 MB. Like MLflow, a
 * success is a 200 with an empty body.
 */
export function uploadArtifactRoute(r: Router): void {
  const { app, deps, knownPaths } = r;
  app.openAPIRegistry.registerPath({
    method: 'post', path: PATH, tags: [tag], summary: "Upload one file (at most 10 MB) into a run's artifacts",
    request: {
      query: z.object({ run_id: z.string().optional(), run_uuid: z.string().optional(), path: z.string() }),
      body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    },
    responses: { 200: { description: 'Stored (an empty body)' }, ...errorResponse },
  });
  knownPaths.add(PATH);
  app.post(PATH, guard(r, 'experiment:edit', async (c) => {
    const target = checkRunUpload({ run_id: c.req.query('run_id'), run_uuid: c.req.query('run_uuid'), path: c.req.query('path') });
    const data = await readBodyCapped(c, UI_UPLOAD_MAX_BYTES);
    // The rest of an oversized body is never read, so the connection cannot carry another request.
    if (data === undefined) return c.json(invalidParam(UI_UPLOAD_TOO_LARGE).toJSON(), 400, { Connection: 'close' });
    await uploadRunArtifact(deps, target, data);
    return c.body(null, 200, { 'Content-Type': 'application/json' });
  }, (c) => ({ run_id: c.req.query('run_id'), run_uuid: c.req.query('run_uuid') })));
}
