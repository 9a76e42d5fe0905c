import { isPlainObject, stringifyWandbJson } from './json.js';

// How W&B values become MLflow params and metrics. Nested dicts flatten with '.', as the W&B
// backend does for history; a dict carrying `_type` (an image, a histogram, a table) is one value,
// never flattened.

const MAX_FLAT_KEYS = 10_000;

/** {a: {b: 1}, c: 2} -> {'a.b': 1, c: 2}; media dicts and arrays stay whole. */
export function flattenRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  let n = 0;
  const walk = (prefix: string, value: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__' || n >= MAX_FLAT_KEYS) continue;
      const key = prefix ? `${prefix}.${k}` : k;
      if (isPlainObject(v) && !('_type' in v) && Object.keys(v).length > 0) walk(key, v);
      else {
        out[key] = v;
        n++;
      }
    }
  };
  walk('', row);
  return out;
}

/** The user's config (without `_wandb`) from the client's `{"key": {"value": v}}` form. */
export function unwrapConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(config)) {
    if (k === '_wandb' || k === 'wandb_version' || k === '__proto__') continue;
    out[k] = isPlainObject(v) && 'value' in v ? v.value : v;
  }
  return out;
}

/** A config value as an MLflow param string: strings as they are, booleans as Python prints them. */
export function paramValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  return stringifyWandbJson(v);
}

/** The numeric leaves of a flattened row that can be metrics: no `_`-prefixed keys, no booleans. */
export function numericLeaves(flat: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(flat)) {
    if (k.startsWith('_') || typeof v !== 'number') continue;
    out.push([k, v]);
  }
  return out;
}

/** The type name W&B reports in `historyKeys` for a value. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v) && typeof v._type === 'string') return v._type;
  return 'map';
}
