import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { gunzipSync } from 'node:zlib';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { invalidParam, MlflowError } from '../../errors.js';
import { requestText } from '../../lib/request-body.js';
import { checkStorableJson, decodeUtf8Body } from '../../lib/storable-text.js';
import type { WandbUser } from '../../domain/wandb/api-keys.js';
import { applyFileStream } from '../../domain/wandb/file-stream.js';
import { storeUpload } from '../../domain/wandb/run-files.js';
import { openDownload } from '../../domain/wandb/run-file-list.js';
import { contentDisposition } from '../../domain/artifacts-mime.js';
import { trustedProxies } from '../../http/trusted-proxies.js';
import { guard, type Router } from '../define.js';
import { apiKeyFrom, publicBaseUrl, requireApiKey } from './auth.js';
import { runGraphql } from './graphql.js';
import { permissionDenied, principalOf } from '../../auth/policy.js';
import { isUnrestricted } from '../../auth/principal.js';
import { isMlflowDocument, runMlflowGraphql } from '../mlflow-graphql/execute.js';
import { restRunRoutes } from './rest.js';
import { artifactRoutes } from './artifact-routes.js';

type Env = { Variables: { wandbUser: WandbUser } };

const GRAPHQL_MAX_BYTES = 16 * 1024 * 1024;
// The client caps a post at 10 MiB (x_file_stream_max_bytes); room for its JSON overhead.
const FILE_STREAM_MAX_BYTES = 32 * 1024 * 1024;
const MAX_LINE_NO = 2 ** 31 - 1;

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw invalidParam(`Request body exceeds the limit of ${maxSize} bytes.`);
    },
  });

const graphqlBody = z.object({
  query: z.string().min(1),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

const fileChunk = z
  .object({ offset: z.number().int().min(0), content: z.array(z.string()) })
  .refine((c) => c.offset + c.content.length <= MAX_LINE_NO, 'offset out of range');

const fileStreamBody = z.object({
  files: z.record(z.string(), fileChunk).optional(),
  uploaded: z.array(z.string()).optional(),
  complete: z.boolean().optional(),
  exitcode: z.number().int().nullish(),
  preempting: z.boolean().optional(),
  dropped: z.number().optional(),
});

// `checkText`: every string must be storable (GraphQL variables reach text columns as they are);
// file_stream's lines are checked once parsed, as console output keeps its NULs as U+FFFD.
function parseBody<T>(schema: z.ZodType<T>, text: string, what: string, checkText = false): T {
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw invalidParam(`Malformed JSON in the ${what} body: ${(err as Error).message}`);
  }
  if (checkText) checkStorableJson(raw, '');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidParam(`Invalid ${what} body at '${issue.path.join('.') || 'body'}': ${issue.message}`);
  }
  return parsed.data;
}

// wandb-core gzips file_stream posts only when the server advertises FILESTREAM_GZIP, which Cairn
// does not; other clients may still send it.
async function bodyText(c: Context, maxBytes: number): Promise<string> {
  if (!/gzip/i.test(c.req.header('content-encoding') ?? '')) return requestText(c);
  try {
    return decodeUtf8Body(gunzipSync(Buffer.from(await c.req.arrayBuffer()), { maxOutputLength: maxBytes }));
  } catch (err) {
    if (err instanceof MlflowError) throw err;
    throw invalidParam(`Cannot decompress the request body: ${(err as Error).message}`);
  }
}

/** The W&B wire protocol: GraphQL, file_stream, upload URLs, and the plain REST run endpoint. */
export function wandbRoutes(r: Router): void {
  const { deps } = r;
  const app = r.app as unknown as import('hono').Hono<Env>;
  const auth = requireApiKey(deps);
  // Built on first use: the OpenAPI generator builds the app without any dependencies.
  let trustsPeer: ((peer: string | undefined) => boolean) | undefined;
  const baseUrl = (c: Context) => publicBaseUrl(c, (trustsPeer ??= trustedProxies(deps.config.forwardedAllowIps)));

  // wandb-core probes for an OpenTelemetry proxy without credentials; 404 turns its telemetry off.
  app.all('/sdk/otel/*', guard(r, 'public', (c) => c.json({ error: 'not supported' }, 404)) as never);

  // One path, two schemas: MLflow's UI posts documents selecting only `mlflow*` root fields (and
  // no W&B key); everything else is the wandb client's and needs its API key. Each W&B operation
  // checks the projects it touches (resolvers.ts): one request may name several.
  app.post('/graphql', limit(GRAPHQL_MAX_BYTES), guard(r, 'authenticated', async (c) => {
    const req = parseBody(graphqlBody, await requestText(c), 'GraphQL', true);
    if (isMlflowDocument(req.query, apiKeyFrom(c.req.header('authorization')) !== undefined)) {
      // MLflow's GraphQL resolvers read any experiment they are asked for: with accounts on it is
      // kept to admins until each resolver checks the caller's permission (fail closed).
      if (!isUnrestricted(principalOf(c))) throw permissionDenied('MLflow GraphQL queries need an admin account while accounts are on');
      return runMlflowGraphql(c, deps, req);
    }
    let answer: Response | undefined;
    const refused = await auth(c, async () => {
      answer = await runGraphql(c, deps, c.get('wandbUser' as never), req, baseUrl(c));
    });
    return refused ?? answer!;
  }) as never);
  r.knownPaths.add('/graphql');

  const project = (c: import('hono').Context) => ({ wandb_project: { entity: c.req.param('entity'), project: c.req.param('project') } });
  app.post('/files/:entity/:project/:run/file_stream', limit(FILE_STREAM_MAX_BYTES), auth, guard(r, 'experiment:edit', async (c) => {
    const body = parseBody(fileStreamBody, await bodyText(c, FILE_STREAM_MAX_BYTES), 'file_stream');
    await applyFileStream(deps, { entity: c.req.param('entity')!, project: c.req.param('project')!, run: c.req.param('run')! }, body);
    return c.json({}, 200);
  }, project) as never);

  // The URL handed out by CreateRunFiles; the client PUTs without credentials (the token is one).
  app.put('/wandb-upload/:token', guard(r, 'public', async (c) => {
    const raw = c.req.raw.body;
    const body = raw ? Readable.fromWeb(raw as unknown as NodeReadableStream) : Readable.from([]);
    await storeUpload(deps, c.req.param('token')!, body);
    return c.body(null, 200);
  }) as never);

  // The URL File.url hands out (run.files(), File.download()); signed like the upload URLs.
  app.get('/wandb-download/:token', guard(r, 'public', async (c) => {
    const file = await openDownload(deps, c.req.param('token')!);
    const headers = { 'Content-Length': String(file.size), 'Content-Type': 'application/octet-stream', 'Content-Disposition': contentDisposition(file.path.split('/').pop()!) };
    return new Response(Readable.toWeb(file.body) as unknown as ReadableStream<Uint8Array>, { status: 200, headers });
  }) as never);

  artifactRoutes(r, auth);
  restRunRoutes(r, auth);
}
