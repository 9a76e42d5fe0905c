import { invalidParam } from '../../errors.js';
import { compileFilterRegex, type FilterRegex } from './filter-regex.js';
import { flattenRow, unwrapConfig } from './flatten.js';
import { isPlainObject, parseWandbJson } from './json.js';
import { wandbState, type WandbRunRow } from './run-store.js';

// `wandb.Api().runs(path, filters=…, order=…)`: a MongoDB-style filter over run fields, config
// (`config.lr` or `config.lr.value`) and summary (`summary_metrics.loss`), evaluated over one
// project's runs in the server.

type Doc = (path: string) => unknown;

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Field lookup for one run; config and summary are parsed once, on first use. */
export function runDoc(run: WandbRunRow, now: number): Doc {
  let config: Record<string, unknown> | undefined;
  let summary: Record<string, unknown> | undefined;
  const nested = (root: Record<string, unknown>, rest: string): unknown => {
    const flat = flattenRow(root);
    if (rest in flat) return flat[rest];
    let v: unknown = root;
    for (const seg of rest.split('.')) {
      if (!isPlainObject(v) || !(seg in v)) return undefined;
      v = v[seg];
    }
    return v;
  };
  return (path) => {
    if (path.startsWith('config.')) {
      config ??= run.config ? unwrapConfig(parseWandbJson(run.config, 'config') as Record<string, unknown>) : {};
      const rest = path.slice('config.'.length);
      const direct = nested(config, rest);
      if (direct !== undefined) return direct;
      // W&B's own spelling: config.<key>.value[.<sub>]
      const m = /^([^.]+)\.value(?:\.(.*))?$/.exec(rest);
      return m ? nested(config, m[2] ? `${m[1]}.${m[2]}` : m[1]) : undefined;
    }
    if (path.startsWith('summary_metrics.') || path.startsWith('summaryMetrics.')) {
      summary ??= parseWandbJson(run.summary, 'summary') as Record<string, unknown>;
      return nested(summary, path.slice(path.indexOf('.') + 1));
    }
    switch (path) {
      case 'name':
        return run.name;
      case 'displayName':
      case 'display_name':
        return run.display_name;
      case 'state':
        return wandbState(run, now);
      case 'group':
        return run.group_name;
      case 'jobType':
      case 'job_type':
        return run.job_type;
      case 'host':
        return run.host;
      case 'username':
        return run.user_name;
      case 'entity':
        return run.entity;
      case 'sweep':
        return run.sweep;
      case 'notes':
        return run.notes;
      case 'tags':
        return JSON.parse(run.tags) as string[];
      case 'createdAt':
      case 'created_at':
        return isoTime(run.created_at);
      case 'heartbeatAt':
      case 'heartbeat_at':
        return isoTime(run.heartbeat_at);
      case 'duration':
        return run.end_time !== null && run.start_time !== null ? (run.end_time - run.start_time) / 1000 : undefined;
      default:
        return undefined;
    }
  };
}

const MAX_FILTER_DEPTH = 16;

export function parseFilters(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  const f = parseWandbJson(text, 'filters');
  if (f === null) return {};
  if (!isPlainObject(f)) throw invalidParam('filters must be a JSON object');
  return f;
}

export function matches(doc: Doc, filter: Record<string, unknown>, depth = 0): boolean {
  if (depth > MAX_FILTER_DEPTH) throw invalidParam('filters are nested too deeply');
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(cond) || !cond.every(isPlainObject)) throw invalidParam(`${key} needs a list of filters`);
      const results = (cond as Record<string, unknown>[]).map((c) => matches(doc, c, depth + 1));
      const ok = key === '$and' ? results.every(Boolean) : key === '$or' ? results.some(Boolean) : !results.some(Boolean);
      if (!ok) return false;
      continue;
    }
    if (key.startsWith('$')) throw invalidParam(`Unsupported filter operator ${key}`);
    if (!fieldMatches(doc(key), cond, depth)) return false;
  }
  return true;
}

function fieldMatches(value: unknown, cond: unknown, depth: number): boolean {
  if (!isPlainObject(cond) || !Object.keys(cond).some((k) => k.startsWith('$'))) return equals(value, cond);
  for (const [op, arg] of Object.entries(cond)) {
    let ok: boolean;
    switch (op) {
      case '$eq':
        ok = equals(value, arg);
        break;
      case '$ne':
        ok = !equals(value, arg);
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const c = compare(value, arg);
        ok = c !== undefined && (op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0);
        break;
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg)) throw invalidParam(`${op} needs a list`);
        const found = arg.some((a) => equals(value, a));
        ok = op === '$in' ? found : !found;
        break;
      }
      case '$exists':
        ok = (value !== undefined && value !== null) === Boolean(arg);
        break;
      case '$regex': {
        const re = compiledRegex(cond);
        ok = typeof value === 'string' ? re.test(value) : Array.isArray(value) && value.some((v) => typeof v === 'string' && re.test(v));
        break;
      }
      case '$options':
        ok = true;
        break;
      case '$not':
        ok = !fieldMatches(value, arg, depth + 1);
        break;
      default:
        throw invalidParam(`Unsupported filter operator ${op}`);
    }
    if (!ok) return false;
  }
  return true;
}

// The same condition object is tested against every run: compile its pattern once.
const compiled = new WeakMap<object, FilterRegex>();
function compiledRegex(cond: Record<string, unknown>): FilterRegex {
  let re = compiled.get(cond);
  if (!re) {
    re = compileFilterRegex(cond.$regex, cond.$options);
    compiled.set(cond, re);
  }
  return re;
}

// A list field (tags) matches a scalar when it contains it, as in MongoDB.
function equals(value: unknown, target: unknown): boolean {
  if (Array.isArray(value) && !Array.isArray(target)) return value.some((v) => equals(v, target));
  if (typeof value === 'number' && typeof target === 'number') return value === target || (Number.isNaN(value) && Number.isNaN(target));
  if (value === undefined) return target === null;
  return JSON.stringify(value) === JSON.stringify(target);
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? undefined : a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Sorts by `+key` / `-key` (created_at by default); runs missing the key go last. */
export function sortRuns(runs: WandbRunRow[], order: string | null | undefined, now: number): WandbRunRow[] {
  const text = order || '+created_at';
  const desc = text.startsWith('-');
  const key = text.replace(/^[+-]/, '');
  const docs = new Map(runs.map((r) => [r, runDoc(r, now)]));
  const valueOf = (r: WandbRunRow) => (key === 'created_at' || key === 'createdAt' ? r.created_at : key === 'heartbeat_at' || key === 'heartbeatAt' ? r.heartbeat_at : docs.get(r)!(key));
  return [...runs].sort((x, y) => {
    const a = valueOf(x);
    const b = valueOf(y);
    const missingA = a === undefined || a === null;
    const missingB = b === undefined || b === null;
    if (missingA !== missingB) return missingA ? 1 : -1;
    const c = missingA ? 0 : (compare(a, b) ?? 0);
    if (c !== 0) return desc ? -c : c;
    return x.created_at - y.created_at || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  });
}
