import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload } from '../../domain/artifacts.js';
import { int64, requiredString } from '../../lib/zod-wire.js';
import { guard, type Router } from '../define.js';
import { artifactPathParam, bothPrefixes, emptyJson, errorResponse, jsonBodyLimit, keyFromUrl, methodNotAllowed, readJson, tag } from './paths.js';

const MPU = '/mlflow-artifacts/mpu';

const createInput = z.object({
  path: requiredString.openapi({ description: 'The file name (older clients send their local path; only its last segment is used)' }),
  num_parts: int64.optional(),
});
const completeInput = z.object({
  path: requiredString,
  upload_id: requiredString,
  parts: z.array(z.object({ part_number: int64, etag: z.string(), url: z.string().optional() })),
});
const abortInput = z.object({ path: requiredString, upload_id: requiredString });
const createOutput = z.object({
  upload_id: z.string(),
  credentials: z.array(z.object({ url: z.string(), part_number: z.number().int(), headers: z.record(z.string(), z.string()) })),
});

// Ten thousand parts, each with a presigned URL echoed back, fit well within this.
const MAX_BODY = 32 * 1024 * 1024;

/**
 * Multipart upload through presigned part URLs (client opt-in, MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD).
 * The URL names the artifact folder; the body names the file. On the local folder store `create`
 * answers 501 with the message the client falls back to a single PUT on.
 */
export function multipartRoutes(r: Router): void {
  const { app, deps } = r;
  const limit = jsonBodyLimit(MAX_BODY);
  for (const [action, summary, input, output] of [
    ['create', 'Start a multipart upload; returns one presigned URL per part (S3 only)', createInput, createOutput],
    ['complete', 'Complete a multipart upload from the ETags of its parts', completeInput, z.object({})],
    ['abort', 'Abort a multipart upload', abortInput, z.object({})],
  ] as const) {
    app.openAPIRegistry.registerPath({
      method: 'post', path: `/api/2.0${MPU}/${action}/{artifact_path}`, tags: [tag], summary,
      request: { params: artifactPathParam, body: { content: { 'application/json': { schema: input } } } },
      responses: { ...(action === 'create' ? { 200: { description: 'OK', content: { 'application/json': { schema: output } } } } : emptyJson), ...errorResponse },
    });
    const family = `${MPU}/${action}`;
    const dirKey = (c: Context) => keyFromUrl(c, family, { allowRoot: true });
    app.on('POST', [...bothPrefixes(family), ...bothPrefixes(`${family}/*`)], limit, guard(r, 'artifact:edit', async (c) => {
      const key = dirKey(c);
      if (action === 'create') {
        const body = await readJson(c, createInput);
        return c.json(await createMultipartUpload(deps, key, body.path, body.num_parts ?? 1));
      }
      if (action === 'complete') await completeMultipartUpload(deps, key, await readJson(c, completeInput));
      else await abortMultipartUpload(deps, key, await readJson(c, abortInput));
      return c.json({});
    }, dirKey));
    for (const p of [...bothPrefixes(family), ...bothPrefixes(`${family}/*`)]) app.all(p, guard(r, 'public', methodNotAllowed));
  }
}
