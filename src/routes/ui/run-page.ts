import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { contentDisposition } from '../../domain/artifacts-mime.js';
import { runMedia } from '../../domain/ui/media.js';
import { runOutput } from '../../domain/ui/output.js';
import { openRunFile, type OpenedRunFile } from '../../domain/ui/run-files.js';
import { defineRoute, type Router } from '../define.js';
import { boundedInt, tag } from './schemas.js';

const runId = z.string().min(1);

const mediaItem = z
  .object({
    key: z.string(),
    step: z.number().int(),
    type: z.enum(['image', 'images', 'table', 'histogram', 'confusion_matrix', 'other']),
    caption: z.string().optional(),
    file_path: z.string().optional(),
    width: z.number().optional(),
    height: z.number().optional(),
    table_key: z.string().optional(),
    chart: z.string().optional(),
    value: z.record(z.string(), z.unknown()),
  })
  .openapi('UiMediaItem');

/** The run page's console, media and files. */
export function runPageRoutes(r: Router): void {
  defineRoute(r, {
    method: 'get', path: '/cairn/ui/runs/output', tag,
    summary: "A run's console output (W&B output.log, or an output.log artifact) from a byte offset, up to 1 MiB, for a live tail",
    input: z.object({ run_id: runId, offset: boundedInt(0, Number.MAX_SAFE_INTEGER).optional() }),
    output: z.object({ text: z.string(), next_offset: z.number().int(), complete: z.boolean() }),
    handle: (deps, input) => runOutput(deps, input),
  });

  defineRoute(r, {
    method: 'get', path: '/cairn/ui/runs/media', tag,
    summary: "W&B media in a run's history (images, tables, histograms, confusion matrices), in step order; `key` keeps one key",
    input: z.object({ run_id: runId, key: z.string().min(1).optional() }),
    output: z.object({ items: z.array(mediaItem), truncated: z.boolean() }),
    handle: (deps, input) => runMedia(deps, input),
  });

  defineRoute(r, {
    method: 'get', path: '/cairn/ui/runs/file', tag,
    summary: 'Streams one file below the run\'s artifact root (W&B media and run files); raster images and text inline, anything else as an attachment',
    input: z.object({ run_id: runId, path: z.string().min(1) }),
    output: z.string().openapi({ format: 'binary' }),
    handle: async (deps, input, c) => sendFile(c, await openRunFile(deps, input)),
  });
}

function sendFile(c: Context, file: OpenedRunFile): Response {
  const headers = new Headers({
    'Content-Type': file.contentType,
    'Content-Length': String(file.size),
    'Content-Disposition': file.inline ? 'inline' : contentDisposition(file.fileName),
    'X-Content-Type-Options': 'nosniff',
    // Nothing served here may run script on Cairn's origin, even when opened directly.
    'Content-Security-Policy': "default-src 'none'; sandbox",
    // Media files are written once under content-hashed names; others may change.
    'Cache-Control': 'private, max-age=60',
  });
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (outgoing instanceof ServerResponse && !outgoing.headersSent) {
    outgoing.writeHead(200, Object.fromEntries(headers));
    pipeline(file.body, outgoing).catch(() => file.body.destroy());
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(Readable.toWeb(file.body) as unknown as ReadableStream<Uint8Array>, { status: 200, headers });
}
