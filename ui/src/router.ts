import { useEffect, useState } from 'react';

// Client routing. The canonical routes are hash routes (`/#/experiments/1/runs/abc`), the form the
// mlflow client prints, so a reload never depends on the server knowing the route. Any other path
// (`/alice/mnist/runs/abc`, as the wandb client prints) is kept as a path route under `/wandb`, which
// resolves to an experiment or run and then replaces the URL with the canonical hash route.

/**
 * The path the app is served under: '/' or, behind `cairn server --static-prefix /p`, '/p/' (the
 * server writes it into index.html's <base>). Every URL the app makes starts from it.
 */
export const BASE_PATH = new URL(document.baseURI).pathname.replace(/[^/]*$/, '');

/**
 * Where the API answers: the server's root ('/' or the --static-prefix), written by the server into
 * a meta tag. It differs from BASE_PATH only under `cairn server --ui mlflow`, where MLflow's UI has
 * '/' and this app lives under '/cairn/'.
 */
export const API_ROOT = document.querySelector('meta[name="cairn-api-root"]')?.getAttribute('content') ?? BASE_PATH;

export interface Location {
  path: string;
  query: URLSearchParams;
}

export function currentLocation(): Location {
  const { hash, search } = window.location;
  const pathname = '/' + window.location.pathname.slice(BASE_PATH.length);
  if (hash.startsWith('#/')) {
    const raw = hash.slice(1);
    const q = raw.indexOf('?');
    return { path: safeDecodePath(q < 0 ? raw : raw.slice(0, q)), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
  }
  if (pathname !== '/' && pathname !== '/index.html') return { path: '/wandb' + pathname.replace(/\/+$/, ''), query: new URLSearchParams(search) };
  return { path: '/', query: new URLSearchParams() };
}

function safeDecodePath(p: string): string {
  // Segments are decoded one by one by the matcher; keep the raw path here.
  return p || '/';
}

const listeners = new Set<() => void>();
function notify() {
  listeners.forEach((l) => l());
}
window.addEventListener('hashchange', notify);
window.addEventListener('popstate', notify);

/** A hash href for a route path and optional query. */
export function href(path: string, query?: Record<string, string | undefined> | URLSearchParams): string {
  const sp = query instanceof URLSearchParams ? query : new URLSearchParams(Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== '') as [string, string][]);
  const qs = sp.toString();
  return `${BASE_PATH}#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const url = to.startsWith(`${BASE_PATH}#`) ? to : `${BASE_PATH}#${to}`;
  if (opts.replace || window.location.pathname !== BASE_PATH) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notify();
}

/** Replaces the query of the current hash route (view state kept in the URL), without a history entry. */
export function setQuery(query: URLSearchParams) {
  const loc = currentLocation();
  history.replaceState(null, '', href(loc.path, query));
  notify();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const l = () => setLoc(currentLocation());
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return loc;
}

export interface RouteDef {
  pattern: string;
  render: (params: Record<string, string>, query: URLSearchParams) => React.ReactNode;
}

/** Matches `/experiments/:id/runs/:runId`; a trailing `*` param takes the rest of the path. */
export function matchRoute(routes: RouteDef[], path: string): { route: RouteDef; params: Record<string, string> } | undefined {
  const segs = path.split('/').filter(Boolean);
  for (const route of routes) {
    const pat = route.pattern.split('/').filter(Boolean);
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pat.length && ok; i++) {
      const p = pat[i];
      if (p === '*') {
        params['*'] = segs.slice(i).map(dec).join('/');
        return { route, params };
      }
      if (i >= segs.length) ok = false;
      else if (p.startsWith(':')) params[p.slice(1)] = dec(segs[i]);
      else if (p !== segs[i]) ok = false;
    }
    if (ok && segs.length === pat.length) return { route, params };
  }
  return undefined;
}

function dec(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
