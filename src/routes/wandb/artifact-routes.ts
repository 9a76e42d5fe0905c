import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Context, MiddlewareHandler } from 'hono';
import type { BlobObject, ByteRange } from '../../blobs/store.js';
import type { WandbUser } from '../../domain/wandb/api-keys.js';
import { openArtifactFile, openManifest, openProjectFile, storeArtifactUpload } from '../../domain/wandb/artifacts-blobs.js';
import { experimentOf } from '../../domain/wandb/artifacts.js';
import { storeArtifactPart } from '../../domain/wandb/artifact-multipart.js';
import { notFound } from '../../errors.js';
import { guard, type Router } from '../define.js';

type Env = { Variables: { wandbUser: WandbUser } };

const stream = (obj: BlobObject & { range?: ByteRange & { total: number } }, type = 'application/octet-stream') =>
  new Response(Readable.toWeb(obj.body) as unknown as ReadableStream<Uint8Array>, {
    status: obj.range ? 206 : 200,
    headers: {
      'Content-Length': String(obj.size),
      'Content-Type': type,
      'Accept-Ranges': 'bytes',
      ...(obj.range ? { 'Content-Range': `bytes ${obj.range.start}-${obj.range.end}/${obj.range.total}` } : {}),
    },
  });

const requestBody = (c: Context): Readable => {
  const raw = c.req.raw.body;
  return raw ? Readable.fromWeb(raw as unknown as NodeReadableStream) : Readable.from([]);
};

/**
 * The HTTP side of W&B Artifacts: signed upload URLs for files and manifests (wandb-core PUTs them
 * without credentials), the signed manifest URL, and the client's authenticated artifactsV2 file
 * download path (wandb/sdk/artifacts/storage_policies/wandb_storage_policy.py `_file_url`).
 */
export function artifactRoutes(r: Router, auth: MiddlewareHandler<Env>): void {
  const { deps } = r;
  const app = r.app as unknown as import('hono').Hono<Env>;

  app.put('/wandb-artifact-upload/:token', guard(r, 'public', async (c) => {
    await storeArtifactUpload(deps, c.req.param('token')!, requestBody(c));
    return c.body(null, 200);
  }) as never);

  app.put('/wandb-artifact-part/:token', guard(r, 'public', async (c) => {
    const etag = await storeArtifactPart(deps, c.req.param('token')!, requestBody(c));
    return c.body(null, 200, { ETag: etag });
  }) as never);

  app.get('/wandb-artifact-manifest/:token', guard(r, 'public', async (c) => stream(await openManifest(deps, c.req.param('token')!), 'application/json')) as never);

  app.get('/wandb-artifact-file/:token', guard(r, 'public', async (c) => stream(await openArtifactFile(deps, c.req.param('token')!, c.req.header('range')))) as never);

  const project = (c: Context) => ({ experiment_name: c.req.param('project') });
  app.get('/artifactsV2/:region/:entity/:project/:collection/:birth/:hex/:name', auth, guard(r, 'experiment:read', async (c) => {
    const experimentId = await experimentOf(deps, c.req.param('project')!);
    if (experimentId === undefined) throw notFound(`Project ${c.req.param('project')} not found`);
    return stream(await openProjectFile(deps, experimentId, c.req.param('hex')!, c.req.header('range')));
  }, project) as never);
}
