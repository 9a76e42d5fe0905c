import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ingestOtlp } from '../../domain/traces/otlp.js';
import { decodeExportTraceRequest } from '../../domain/traces/otlp-proto.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { readBodyCapped } from '../../lib/request-body.js';
import { decodeUtf8Body } from '../../lib/storable-text.js';
import { errorSchema, guard, type Router } from '../define.js';

// OTLP/HTTP trace export (POST /v1/traces), as MLflow's server takes it: an ExportTraceServiceRequest
// in protobuf or JSON, into the experiment the `x-mlflow-experiment-id` header names (and linked to
// the run `x-mlflow-run-id` names). Any OpenTelemetry exporter can send there, and the mlflow client
// does, each span as it ends (its `log_spans`), before its StartTraceV3 (docs/tracing.md).

const PATH = '/v1/traces';
const MAX_BODY = 16 * 1024 * 1024;
const EXPERIMENT_HEADER = 'x-mlflow-experiment-id';
const RUN_HEADER = 'x-mlflow-run-id';
const MEDIA_TYPES = ['application/x-protobuf', 'application/json'] as const;

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

async function decompressed(body: Uint8Array, encoding: string | undefined): Promise<Uint8Array> {
  const e = encoding?.trim().toLowerCase();
  if (!e || e === 'identity') return body;
  try {
    // maxOutputLength: a small compressed body must not expand past the same cap (a zip bomb).
    if (e === 'gzip') return await gunzipAsync(body, { maxOutputLength: MAX_BODY });
    if (e === 'deflate') return await inflateAsync(body, { maxOutputLength: MAX_BODY });
  } catch {
    throw invalidParam(`Invalid ${e} body, or it expands past ${MAX_BODY} bytes`);
  }
  throw invalidParam(`Unsupported Content-Encoding: ${e.slice(0, 50)}. Expected gzip, deflate or none`);
}

function experimentOf(c: Context): string {
  const id = c.req.header(EXPERIMENT_HEADER);
  if (!id) throw invalidParam(`Missing value for required header '${EXPERIMENT_HEADER}'`);
  return id;
}

export function otlpRoutes(r: Router): void {
  r.app.openAPIRegistry.registerPath({
    method: 'post', path: PATH, tags: ['Traces'],
    summary: 'OTLP/HTTP trace export (protobuf or JSON) into the experiment named by the x-mlflow-experiment-id header',
    request: {
      headers: z.object({ [EXPERIMENT_HEADER]: z.string(), [RUN_HEADER]: z.string().optional() }),
      body: {
        content: {
          'application/x-protobuf': { schema: z.string().openapi({ format: 'binary' }) },
          'application/json': { schema: z.object({ resourceSpans: z.array(z.object({}).passthrough()) }) },
        },
      },
    },
    responses: {
      200: { description: 'An empty ExportTraceServiceResponse, in the encoding of the request' },
      default: { description: 'MLflow error', content: { 'application/json': { schema: errorSchema } } },
    },
  });
  r.knownPaths.add(PATH);
  r.app.post(PATH, guard(r, 'experiment:edit', async (c) => {
    const contentType = c.req.header('content-type');
    const media = contentType?.split(';')[0].trim().toLowerCase();
    if (!MEDIA_TYPES.includes(media as never)) {
      throw invalidParam(`Invalid Content-Type: ${contentType?.slice(0, 100)}. Expected: application/x-protobuf or application/json`);
    }
    const raw = await readBodyCapped(c, MAX_BODY);
    if (raw === undefined) return c.json(invalidParam(`Request body exceeds the limit of ${MAX_BODY} bytes.`).toJSON(), 400, { Connection: 'close' });
    const body = await decompressed(raw, c.req.header('content-encoding'));
    let request: unknown;
    if (media === 'application/json') {
      try {
        request = JSON.parse(decodeUtf8Body(body));
      } catch (err) {
        if (err instanceof MlflowError) throw err;
        throw invalidParam('Invalid OpenTelemetry format: the body is not JSON');
      }
    } else request = decodeExportTraceRequest(body);
    await ingestOtlp(r.deps, experimentOf(c), c.req.header(RUN_HEADER) || undefined, request);
    // The answer's encoding is the request's (OTLP/HTTP); an empty message is `{}` or no bytes.
    if (media === 'application/json') return c.json({});
    return c.body(null, 200, { 'Content-Type': 'application/x-protobuf' });
  }, (c) => ({ experiment_id: experimentOf(c) })));
}
