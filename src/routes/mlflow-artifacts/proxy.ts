import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { artifactKey } from '../../blobs/keys.js';
import { contentDisposition } from '../../domain/artifacts-mime.js';
import { deleteArtifacts, listArtifactDir, openArtifact, presignedDownload, type ArtifactDownload } from '../../domain/artifacts.js';
import { uploadArtifactOrTraceData } from '../../domain/traces/upload.js';
import { guard, type Router } from '../define.js';
import { artifactPathParam, bothPrefixes, emptyJson, errorResponse, keyFromUrl, methodNotAllowed, tag } from './paths.js';

const ARTIFACTS = '/mlflow-artifacts/artifacts';
const PRESIGNED = '/mlflow-artifacts/presigned';

const fileInfo = z
  .object({ path: z.string(), is_dir: z.boolean(), file_size: z.number().int().optional() })
  .openapi('FileInfo');

/** PUT / GET / DELETE of one artifact, the folder listing, and presigned downloads. */
export function proxyRoutes(r: Router): void {
  const { app, deps } = r;
  document(r);

  // Each path's first segment is the experiment it belongs to: the policy is checked against it.
  const listedKey = (c: Context) => {
    const raw = c.req.query('path');
    return raw === undefined ? '' : artifactKey(raw, { decoded: true, allowRoot: true });
  };
  const itemKey = (c: Context) => keyFromUrl(c, ARTIFACTS);
  app.on('GET', bothPrefixes(ARTIFACTS), guard(r, 'artifact:read', async (c) => c.json({ files: await listArtifactDir(deps, listedKey(c)) }), listedKey));

  const item = bothPrefixes(`${ARTIFACTS}/*`);
  app.on('PUT', item, guard(r, 'artifact:edit', async (c) => {
    const key = keyFromUrl(c, ARTIFACTS, { file: true });
    await uploadArtifactOrTraceData(deps, key, requestBody(c));
    return c.json({});
  }, itemKey));
  app.on('GET', item, guard(r, 'artifact:read', (c) => download(r, c), itemKey));
  app.on('DELETE', item, guard(r, 'artifact:manage', async (c) => {
    await deleteArtifacts(deps, keyFromUrl(c, ARTIFACTS));
    return c.json({});
  }, itemKey));
  for (const p of item) app.all(p, guard(r, 'public', methodNotAllowed));

  const presignedKey = (c: Context) => keyFromUrl(c, PRESIGNED);
  app.on('GET', bothPrefixes(`${PRESIGNED}/*`), guard(r, 'artifact:read', async (c) => c.json(await presignedDownload(deps, keyFromUrl(c, PRESIGNED, { file: true }))), presignedKey));
  for (const p of bothPrefixes(`${PRESIGNED}/*`)) app.all(p, guard(r, 'public', methodNotAllowed));
}

/**
 * The request body as a Node stream. Under @hono/node-server that is the socket's own
 * IncomingMessage, read directly: no web-stream wrapper in between, so less garbage per chunk.
 */
function requestBody(c: Context): Readable {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable && !incoming.readableDidRead) return incoming;
  const web = c.req.raw.body;
  return web ? Readable.fromWeb(web as import('node:stream/web').ReadableStream) : Readable.from([]);
}

async function download(r: Router, c: Context): Promise<Response> {
  const key = keyFromUrl(c, ARTIFACTS, { file: true });
  // Hono answers HEAD with the GET handler; open nothing the response would never read.
  const isHead = c.req.method === 'HEAD';
  return sendArtifact(c, await openArtifact(r.deps, key, isHead), isHead);
}

/** An opened artifact as a download: an attachment of its type, never rendered on Cairn's origin. */
export function sendArtifact(c: Context, found: ArtifactDownload, isHead = false): Response {
  const headers = new Headers({
    'Content-Type': found.contentType,
    'Content-Length': String(found.size),
    // Never rendered on Cairn's origin: an uploaded .html or .svg must not run script there.
    'Content-Disposition': contentDisposition(found.fileName),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  if (isHead || !found.body) return new Response(null, { status: 200, headers });
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (outgoing instanceof ServerResponse && !outgoing.headersSent) {
    // Under @hono/node-server: the file goes straight into the socket's response, no web stream
    // in between (the wrapper halved download throughput on the bench).
    outgoing.writeHead(200, Object.fromEntries(headers));
    const body = found.body;
    pipeline(body, outgoing).catch(() => body.destroy());
    return RESPONSE_ALREADY_SENT;
  }
  const body = Readable.toWeb(found.body) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}

function document(r: Router): void {
  const registry = r.app.openAPIRegistry;
  const path = `/api/2.0${ARTIFACTS}/{artifact_path}`;
  const binary = z.string().openapi({ format: 'binary' });
  registry.registerPath({
    method: 'put', path, tags: [tag], summary: 'Upload one artifact (raw streamed body, any Content-Type)',
    request: { params: artifactPathParam, body: { content: { 'application/octet-stream': { schema: binary } } } },
    responses: { ...emptyJson, ...errorResponse },
  });
  registry.registerPath({
    method: 'get', path, tags: [tag], summary: 'Download one artifact (streamed, as an attachment)',
    request: { params: artifactPathParam },
    responses: { 200: { description: 'The file', content: { 'application/octet-stream': { schema: binary } } }, ...errorResponse },
  });
  registry.registerPath({
    method: 'delete', path, tags: [tag], summary: 'Delete an artifact or a whole folder',
    request: { params: artifactPathParam },
    responses: { ...emptyJson, ...errorResponse },
  });
  registry.registerPath({
    method: 'get', path: `/api/2.0${ARTIFACTS}`, tags: [tag], summary: 'List one folder (basenames; folders have no file_size)',
    request: { query: z.object({ path: z.string().optional() }) },
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: z.object({ files: z.array(fileInfo).optional() }) } } },
      ...errorResponse,
    },
  });
  registry.registerPath({
    method: 'get', path: `/api/2.0${PRESIGNED}/{artifact_path}`, tags: [tag],
    summary: 'A presigned download URL (S3 only; 501 on the local folder, and the client then downloads through the proxy)',
    request: { params: artifactPathParam },
    responses: {
      200: {
        description: 'OK',
        content: { 'application/json': { schema: z.object({ url: z.string(), headers: z.record(z.string(), z.string()), file_size: z.number().int() }) } },
      },
      ...errorResponse,
    },
  });
}

export { fileInfo };
