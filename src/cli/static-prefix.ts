import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';

// `--static-prefix /p`: everything (API, UI, probes, /metrics) is served under /p, as mlflow server
// does. The prefix is taken off the request's URL before the app sees it, so every route, and every
// handler that reads the raw URL, works unchanged; it is passed on as X-Forwarded-Prefix (after any
// a proxy already set), so URLs Cairn hands out (W&B upload URLs) point back under it.

export function prefixedListener(prefix: string, listener: RequestListener): RequestListener {
  if (!prefix) return listener;
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const rest = url.startsWith(prefix) ? url.slice(prefix.length) : undefined;
    if (rest === undefined || !(rest === '' || rest.startsWith('/') || rest.startsWith('?'))) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: `Cairn serves everything under ${prefix}/` }));
      return;
    }
    // `/p` alone is the web UI's page: moved to `/p/` (as Flask does), so the relative URLs the
    // page makes (MLflow's UI: `static-files/...`, `ajax-api/...`) resolve under the prefix.
    if (rest === '' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(308, { Location: `${prefix}/` });
      res.end();
      return;
    }
    req.url = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
    const outer = req.headers['x-forwarded-prefix'];
    req.headers['x-forwarded-prefix'] = `${typeof outer === 'string' ? outer.replace(/\/+$/, '') : ''}${prefix}`;
    listener(req, res);
  };
}

/** A `createServer` for @hono/node-server's serve() that applies the prefix. */
export function prefixedServerFactory(prefix: string): typeof http.createServer {
  return ((options: http.ServerOptions, listener: RequestListener) => http.createServer(options, prefixedListener(prefix, listener))) as typeof http.createServer;
}
