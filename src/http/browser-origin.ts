import type { Context, MiddlewareHandler } from 'hono';
import type { ErrorCode } from '../errors.js';
import { defaultAllowedHosts, hostAllowList, isLoopbackOrigin, originAllowList } from './host-patterns.js';

// What `mlflow server`'s security middleware does, with its flags: a web page the user happens to
// open must not be able to change their data (cross-site requests, DNS rebinding), nor frame the UI.
//  - Host must be on --allowed-hosts (default: loopback and private addresses), else 403: a rebound
//    DNS name reaches the server with the attacker's name in Host.
//  - A state-changing request from a page on another origin is refused with 403 unless that origin
//    is loopback or on --cors-allowed-origins; browsers always send Origin on those.
//  - A body sent to a JSON endpoint must say `application/json`: the content types a form or a
//    `no-cors` fetch can send without a preflight are exactly the others.
//  - Preflights from allowed origins are answered (204), and every response carries
//    X-Content-Type-Options: nosniff and X-Frame-Options.

export interface BrowserOriginSettings {
  /** Host header patterns; undefined means MLflow's default list. */
  allowedHosts?: string[];
  corsAllowedOrigins: string[];
  /** SAMEORIGIN, DENY, or NONE to send no X-Frame-Options. */
  xFrameOptions: string;
  disabled: boolean;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// MLflow exempts its probes from Host checks: load balancers call them by IP or service name.
const HEALTH_PATHS = new Set(['/health', '/version']);
// The JSON endpoints: MLflow's RPCs, W&B's GraphQL, file_stream and REST runs. Not among them: the
// raw-bytes uploads (an MLflow artifact PUT, sent as application/octet-stream or a guessed type; the
// UI's upload-artifact, whose body is the file, which MLflow takes in any type; a W&B run file
// through its signed URL, sent untyped), OTLP's `/v1/traces` (protobuf or JSON, checked by its route)
// and paths Cairn does not serve (wandb-core's telemetry probe), which keep their 404 or 501.
const JSON_BODY_PATHS = /^\/(?:ajax-)?api\/|^\/graphql$|^\/files\//;
const RAW_BODY_PATHS = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\/|^\/ajax-api\/2\.0\/mlflow\/upload-artifact$/;
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const INVALID_HOST = 'Invalid Host header - possible DNS rebinding attack detected';
const CROSS_ORIGIN_BLOCKED = 'Cross-origin request blocked';

/** The middleware, reading its settings on first use (the OpenAPI generator builds the app without any). */
export function browserOriginProtection(settingsOf: () => BrowserOriginSettings | undefined): MiddlewareHandler {
  let check: ((c: Context, next: () => Promise<void>) => Promise<Response | void>) | undefined;
  return async (c, next) => {
    check ??= makeCheck(settingsOf());
    return check(c, next);
  };
}

function makeCheck(settings: BrowserOriginSettings | undefined) {
  if (!settings || settings.disabled) return async (_c: Context, next: () => Promise<void>) => next();
  const hostPatterns = settings.allowedHosts?.length ? settings.allowedHosts : defaultAllowedHosts();
  const hostAllowed = hostAllowList(hostPatterns);
  const checksHost = !hostPatterns.includes('*');
  const anyOrigin = settings.corsAllowedOrigins.includes('*');
  const configuredOrigin = originAllowList(settings.corsAllowedOrigins);
  const frameOptions = settings.xFrameOptions.toUpperCase();

  // Same origin counts only while Host is checked: under `--allowed-hosts '*'` a rebound name would
  // otherwise make any page "same origin".
  const originAllowed = (origin: string, host: string | undefined) =>
    anyOrigin || isLoopbackOrigin(origin) || configuredOrigin(origin) || (checksHost && !!host && sameOrigin(origin, host));

  const secure = (res: Response): Response => {
    res.headers.set('X-Content-Type-Options', 'nosniff');
    if (frameOptions !== 'NONE') res.headers.set('X-Frame-Options', frameOptions);
    return res;
  };

  return async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    const host = c.req.header('host');
    if (checksHost && !HEALTH_PATHS.has(c.req.path) && !hostAllowed(host)) {
      return secure(refuse(c, 403, 'PERMISSION_DENIED', INVALID_HOST));
    }
    const origin = c.req.header('origin');
    const method = c.req.method;
    const allowedOrigin = origin !== undefined && originAllowed(origin, host);
    if (method === 'OPTIONS' && origin !== undefined && c.req.header('access-control-request-method')) {
      if (!allowedOrigin) return secure(refuse(c, 403, 'PERMISSION_DENIED', `Disallowed CORS origin ${origin}`));
      return secure(preflight(c, origin, anyOrigin));
    }
    if (STATE_CHANGING.has(method)) {
      if (origin !== undefined && !allowedOrigin) return secure(refuse(c, 403, 'PERMISSION_DENIED', CROSS_ORIGIN_BLOCKED));
      if (hasBody(c) && isJsonEndpoint(c.req.path) && !isJson(c.req.header('content-type'))) {
        return secure(
          refuse(c, 400, 'INVALID_PARAMETER_VALUE', `Bad Request. Content-Type must be one of ['application/json'], got '${c.req.header('content-type') ?? ''}'.`),
        );
      }
    }
    await next();
    const res = secure(c.res);
    if (allowedOrigin) {
      res.headers.set('Access-Control-Allow-Origin', anyOrigin ? '*' : origin!);
      if (!anyOrigin) res.headers.set('Access-Control-Allow-Credentials', 'true');
      res.headers.set('Access-Control-Expose-Headers', '*');
    }
    if (origin !== undefined && !anyOrigin) res.headers.append('Vary', 'Origin');
  };
}

function refuse(c: Context, status: 400 | 403, code: ErrorCode, message: string): Response {
  return c.json({ error_code: code, message }, status);
}

function preflight(c: Context, origin: string, anyOrigin: boolean): Response {
  const headers = new Headers({
    'Access-Control-Allow-Origin': anyOrigin ? '*' : origin,
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  });
  if (!anyOrigin) headers.set('Access-Control-Allow-Credentials', 'true');
  const requested = c.req.header('access-control-request-headers');
  if (requested) headers.set('Access-Control-Allow-Headers', requested);
  return new Response(null, { status: 204, headers });
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

const isJsonEndpoint = (path: string) => JSON_BODY_PATHS.test(path) && !RAW_BODY_PATHS.test(path);

// `application/json`, with or without parameters (`; charset=utf-8`).
const isJson = (contentType: string | undefined) => !!contentType && /^application\/json\s*(;|$)/i.test(contentType.trim());

// An HTTP/1.1 request has a body only with a Content-Length above 0 or a Transfer-Encoding.
function hasBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return length.trim() !== '0';
  return c.req.header('transfer-encoding') !== undefined;
}
