import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { routeLabel } from './route-label.js';
import { scrubSecrets } from './scrub.js';

// The first middleware: gives the request its id, runs everything after it in the id's log scope,
// and once it is answered counts it in /metrics and writes its access log line.

// A caller's (or proxy's) X-Request-Id is kept when it looks like an id; anything else (too long,
// odd characters that could forge log fields) is replaced by a new UUID.
const GOOD_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;
// Probes are left out of the request metrics, as MLflow's exporter leaves out /health and /version:
// a load balancer's polling would drown the traffic.
const PROBES = new Set(['/health', '/version', '/ready']);

export interface RequestObserverOptions {
  log: Logger;
  metrics?: Metrics;
  accessLog: boolean;
}

export function requestObserver(opts: RequestObserverOptions): MiddlewareHandler {
  const { log, metrics, accessLog } = opts;
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && GOOD_ID.test(given) ? given : randomUUID();
    c.set('requestId' as never, requestId as never);
    const started = performance.now();
    await log.inRequest(requestId, next);
    c.res.headers.set('X-Request-Id', requestId);
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    const route = routeLabel(c);
    if (!PROBES.has(route)) metrics?.observeRequest(c.req.method, route, status, seconds);
    if (accessLog) {
      log.inRequest(requestId, () =>
        log.info('request', {
          method: c.req.method,
          // The path only: query strings and some paths (W&B upload URLs) carry grants; scrubbed.
          path: scrubSecrets(c.req.path),
          route,
          status,
          duration_ms: Math.round(seconds * 1e4) / 10,
          request_bytes: numberOr(c.req.header('content-length')),
          response_bytes: numberOr(c.res.headers.get('content-length')),
          user_agent: c.req.header('user-agent')?.slice(0, 200),
        }),
      );
    }
  };
}

const numberOr = (text: string | null | undefined) => (text && /^\d+$/.test(text) ? Number(text) : undefined);

/** The id the request observer gave this request (for error messages). */
export function requestIdOf(c: { get(key: never): unknown }): string | undefined {
  return c.get('requestId' as never) as string | undefined;
}
