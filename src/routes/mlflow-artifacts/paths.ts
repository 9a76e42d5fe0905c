import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { artifactKey } from '../../blobs/keys.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { decodeRequestObject } from '../../lib/json-body.js';
import { requestText } from '../../lib/request-body.js';
import { errorSchema, parseInput } from '../define.js';

export const PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;
export const tag = 'Artifacts';

/** Both spellings of one path: `/api/2.0<p>` for the client, `/ajax-api/2.0<p>` for the UI. */
export const bothPrefixes = (p: string) => PREFIXES.map((prefix) => `${prefix}${p}`);

/**
 * The artifact path after `<family>/` in the request URL, as the client sent it (still
 * percent-encoded), turned into a checked store key. Read from the raw request target, before the
 * URL parser has folded `/x/%2e%2e/` into `/`, so that what is validated is what the client typed,
 * and decoding happens once, here.
 */
export function keyFromUrl(c: Context, family: string, opts: { allowRoot?: boolean; file?: boolean } = {}): string {
  const pathname = rawPathname(c);
  for (const prefix of PREFIXES) {
    const head = `${prefix}${family}`;
    if (pathname.startsWith(`${head}/`)) {
      const tail = pathname.slice(head.length + 1);
      if (opts.file && tail.endsWith('/')) throw invalidParam('Invalid path: a file path cannot end with /');
      return artifactKey(tail, opts);
    }
    if (pathname === head) return artifactKey('', opts);
  }
  // The parser resolved dot segments and the request landed here from somewhere else.
  throw invalidParam('Invalid path: dot segments are not allowed');
}

function rawPathname(c: Context): string {
  const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming;
  const target = incoming?.url ?? new URL(c.req.url).pathname;
  const path = target.startsWith('/') ? target : target.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/, '');
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** A JSON body for the multipart calls, read with a size cap (a completion lists every part). */
export function jsonBodyLimit(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw invalidParam(`Request body exceeds the limit of ${maxBytes} bytes.`);
    },
  });
}

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseInput(schema, decodeRequestObject(await requestText(c)));
}

export const artifactPathParam = z.object({
  artifact_path: z.string().openapi({ description: 'Path relative to the artifact store root, e.g. 1/<run_id>/artifacts/model/MLmodel' }),
});

export const errorResponse = {
  default: { description: 'MLflow error', content: { 'application/json': { schema: errorSchema } } },
};

export const emptyJson = {
  200: { description: 'OK', content: { 'application/json': { schema: z.object({}) } } },
};

/** Registered after a family's handlers: a known path with another method is 405, as in Flask. */
export function methodNotAllowed(c: Context): never {
  throw new MlflowError('METHOD_NOT_ALLOWED', `Method ${c.req.method} not allowed on ${new URL(c.req.url).pathname}`);
}
