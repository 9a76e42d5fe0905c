import { parse as parseYaml, YAMLParseError } from 'yaml';
import { invalidParam } from '../../errors.js';
import { isPlainObject } from './json.js';

// A sweep config as W&B defines it (wandb/sweeps' schema.json and sweep-config-keys.md): validated
// once when the sweep is created, with each parameter's distribution filled in, so sampling never
// meets a malformed spec.

export type Goal = 'minimize' | 'maximize';

export type ParamSpec =
  | { kind: 'constant'; value: unknown }
  | { kind: 'categorical'; values: unknown[]; probabilities?: number[] }
  | { kind: 'nested'; parameters: Record<string, ParamSpec> }
  | { kind: 'numeric'; distribution: NumericDistribution; min: number; max: number; mu: number; sigma: number; q: number; a: number; b: number };

export const NUMERIC_DISTRIBUTIONS = [
  'int_uniform',
  'uniform',
  'q_uniform',
  'log_uniform',
  'log_uniform_values',
  'q_log_uniform',
  'q_log_uniform_values',
  'inv_log_uniform',
  'inv_log_uniform_values',
  'normal',
  'q_normal',
  'log_normal',
  'q_log_normal',
  'beta',
  'q_beta',
] as const;
export type NumericDistribution = (typeof NUMERIC_DISTRIBUTIONS)[number];
const DISTRIBUTIONS = ['constant', 'categorical', 'categorical_w_probabilities', ...NUMERIC_DISTRIBUTIONS];

export interface Hyperband {
  bands: number[];
  eta: number;
  strict: boolean;
}

export interface SweepConfig {
  /** custom: the server never chooses; runs come only from a client's schedule (sweeps-schedule.ts). */
  method: 'grid' | 'random' | 'bayes' | 'custom';
  /** local: `wandb controller` / `wandb.controller(...).run()` chooses on the client and schedules runs. */
  controller?: 'local' | 'cloud';
  metric?: { name: string; goal: Goal; target?: number };
  parameters: Record<string, ParamSpec>;
  earlyTerminate?: Hyperband;
  runCap?: number;
  program?: string;
  name?: string;
  description?: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const bad = (msg: string) => invalidParam(`Invalid sweep config: ${msg}`);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses the YAML the client sends (yaml.dump of the user's dict) into a plain object. */
export function parseSweepYaml(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    // A bounded alias count refuses "billion laughs" documents; unknown tags stay plain values
    // without a process warning each.
    doc = parseYaml(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (err) {
    if (err instanceof YAMLParseError) throw bad(`not valid YAML: ${err.message.split('\n')[0]}`);
    if (err instanceof ReferenceError) throw bad(`too many YAML aliases (${err.message})`);
    throw err;
  }
  if (!isPlainObject(doc)) throw bad('expected a mapping of sweep keys (method, metric, parameters, ...)');
  return doc;
}

export function validateSweepConfig(raw: Record<string, unknown>): SweepConfig {
  const method = raw.method;
  if (method === undefined) throw bad("'method' is required: one of grid, random, bayes, custom");
  if (method !== 'grid' && method !== 'random' && method !== 'bayes' && method !== 'custom') {
    throw bad(`method '${String(method)}' is not supported: use grid, random, bayes or custom`);
  }
  const metric = raw.metric === undefined ? undefined : validateMetric(raw.metric);
  if (method === 'bayes' && !metric) throw bad("method 'bayes' needs a 'metric' with a 'name' to optimise");
  // A custom search (a function on the client) may describe its space itself.
  const noParameters = method === 'custom' && (raw.parameters === undefined || raw.parameters === null);
  if (!noParameters && (!isPlainObject(raw.parameters) || Object.keys(raw.parameters).length === 0)) throw bad("'parameters' must be a non-empty mapping");
  const parameters = noParameters ? {} : validateParameters(raw.parameters as Record<string, unknown>, 'parameters');
  if (method === 'grid') checkGridable(parameters, '');
  const config: SweepConfig = { method, metric, parameters };
  if (raw.controller !== undefined && raw.controller !== null) {
    const type = isPlainObject(raw.controller) ? raw.controller.type : undefined;
    if (type !== 'local' && type !== 'cloud') throw bad("'controller' must be a mapping with type local or cloud");
    config.controller = type;
  }
  if (raw.early_terminate !== undefined && raw.early_terminate !== null) {
    const custom = isPlainObject(raw.early_terminate) && raw.early_terminate.type === 'custom';
    // A custom stopping rule runs in the local controller, which names the runs to stop itself.
    if (custom && config.controller !== 'local') throw bad("early_terminate type 'custom' needs controller type local");
    if (!custom && !metric) throw bad("'early_terminate' needs a 'metric' to compare runs by");
    if (!custom) config.earlyTerminate = validateHyperband(raw.early_terminate);
  }
  if (raw.run_cap !== undefined && raw.run_cap !== null) {
    if (!Number.isSafeInteger(raw.run_cap) || (raw.run_cap as number) < 1) throw bad(`run_cap must be a positive integer, got ${JSON.stringify(raw.run_cap)}`);
    config.runCap = raw.run_cap as number;
  }
  for (const key of ['program', 'name', 'description'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw bad(`'${key}' must be a string`);
    config[key] = v;
  }
  return config;
}

function validateMetric(m: unknown): SweepConfig['metric'] {
  if (!isPlainObject(m) || typeof m.name !== 'string' || !m.name) throw bad("'metric' must be a mapping with a 'name'");
  const goal = m.goal ?? 'minimize';
  if (goal !== 'minimize' && goal !== 'maximize') throw bad(`metric goal '${String(goal)}' must be minimize or maximize`);
  if (m.target !== undefined && m.target !== null && !isNum(m.target)) throw bad('metric target must be a number');
  return { name: m.name, goal, ...(isNum(m.target) ? { target: m.target } : {}) };
}

function validateParameters(params: Record<string, unknown>, path: string): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(params)) {
    if (!PARAM_NAME.test(name)) throw bad(`parameter name '${name}' must match ${PARAM_NAME.source}`);
    out[name] = validateParam(spec, `${path}.${name}`);
  }
  return out;
}

function validateParam(spec: unknown, path: string): ParamSpec {
  if (!isPlainObject(spec)) throw bad(`${path} must be a mapping (value, values, min/max, distribution or parameters)`);
  if (spec.parameters !== undefined) {
    if (!isPlainObject(spec.parameters) || Object.keys(spec.parameters).length === 0) throw bad(`${path}.parameters must be a non-empty mapping`);
    return { kind: 'nested', parameters: validateParameters(spec.parameters, `${path}.parameters`) };
  }
  const dist = spec.distribution ?? inferDistribution(spec, path);
  if (typeof dist !== 'string' || !DISTRIBUTIONS.includes(dist)) {
    throw bad(`${path}: unknown distribution '${String(dist)}'; expected one of ${DISTRIBUTIONS.join(', ')}`);
  }
  if (dist === 'constant') {
    if (!('value' in spec)) throw bad(`${path}: distribution constant needs a 'value'`);
    return { kind: 'constant', value: spec.value };
  }
  if (dist === 'categorical' || dist === 'categorical_w_probabilities') return categorical(spec, path, dist === 'categorical_w_probabilities');
  return numeric(spec, path, dist as NumericDistribution);
}

// The client fills `distribution` in only for min/max; the server does it for the other forms.
function inferDistribution(spec: Record<string, unknown>, path: string): string {
  if ('value' in spec) return 'constant';
  if ('values' in spec) return 'probabilities' in spec ? 'categorical_w_probabilities' : 'categorical';
  if ('min' in spec && 'max' in spec) return Number.isInteger(spec.min) && Number.isInteger(spec.max) ? 'int_uniform' : 'uniform';
  if ('mu' in spec || 'sigma' in spec) return 'normal';
  throw bad(`${path}: give 'value', 'values', 'min' and 'max', or a 'distribution'`);
}

function categorical(spec: Record<string, unknown>, path: string, weighted: boolean): ParamSpec {
  if (!Array.isArray(spec.values) || spec.values.length === 0) throw bad(`${path}: 'values' must be a non-empty list`);
  if (!weighted) return { kind: 'categorical', values: spec.values };
  const p = spec.probabilities;
  if (!Array.isArray(p) || p.length !== spec.values.length || !p.every((x) => isNum(x) && x >= 0)) {
    throw bad(`${path}: 'probabilities' must list one non-negative number per value`);
  }
  const sum = (p as number[]).reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw bad(`${path}: 'probabilities' must sum to 1, got ${sum}`);
  return { kind: 'categorical', values: spec.values, probabilities: p as number[] };
}

function numeric(spec: Record<string, unknown>, path: string, distribution: NumericDistribution): ParamSpec {
  const num = (key: string, fallback?: number): number => {
    const v = spec[key] ?? fallback;
    if (!isNum(v)) throw bad(`${path}: distribution ${distribution} needs a numeric '${key}'`);
    return v;
  };
  const q = num('q', 1);
  if (q <= 0) throw bad(`${path}: q must be > 0`);
  const out = { kind: 'numeric' as const, distribution, min: 0, max: 0, mu: 0, sigma: 1, q, a: 1, b: 1 };
  if (/normal$/.test(distribution)) {
    out.mu = num('mu', 0);
    out.sigma = num('sigma', 1);
    if (out.sigma <= 0) throw bad(`${path}: sigma must be > 0`);
  } else if (/beta$/.test(distribution)) {
    out.a = num('a', 1);
    out.b = num('b', 1);
    if (out.a <= 0 || out.b <= 0) throw bad(`${path}: a and b must be > 0`);
  } else {
    out.min = num('min');
    out.max = num('max');
    if (out.min > out.max) throw bad(`${path}: min (${out.min}) is greater than max (${out.max})`);
    if (distribution === 'int_uniform' && !(Number.isInteger(out.min) && Number.isInteger(out.max))) throw bad(`${path}: int_uniform needs integer min and max`);
    if (/_values$/.test(distribution) && out.min <= 0) throw bad(`${path}: ${distribution} needs min > 0, got ${out.min}`);
  }
  return out;
}

function checkGridable(params: Record<string, ParamSpec>, prefix: string): void {
  for (const [name, p] of Object.entries(params)) {
    if (p.kind === 'nested') checkGridable(p.parameters, `${prefix}${name}.`);
    else if (p.kind === 'numeric' && p.distribution !== 'int_uniform' && p.distribution !== 'q_uniform') {
      throw bad(`parameter ${prefix}${name}: grid search needs discrete values, but distribution ${p.distribution} is continuous (use values, int_uniform or q_uniform)`);
    }
  }
}

function validateHyperband(et: unknown): Hyperband {
  if (!isPlainObject(et)) throw bad("'early_terminate' must be a mapping");
  if (et.type !== 'hyperband') throw bad(`early_terminate type '${String(et.type)}' is not supported: use hyperband`);
  const eta = et.eta ?? 3;
  if (!isNum(eta) || eta <= 1) throw bad('early_terminate eta must be a number > 1');
  const strict = et.strict ?? true;
  if (typeof strict !== 'boolean') throw bad('early_terminate strict must be true or false');
  const posInt = (v: unknown, key: string) => {
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw bad(`early_terminate ${key} must be a positive integer`);
    return v as number;
  };
  let bands: number[];
  if (et.max_iter !== undefined) {
    const maxIter = posInt(et.max_iter, 'max_iter');
    const s = posInt(et.s ?? 1, 's');
    bands = [];
    for (let i = 1; i <= s; i++) {
      const band = Math.floor(maxIter / eta ** i);
      if (band < 1) break;
      bands.unshift(band);
    }
  } else if (et.min_iter !== undefined) {
    const minIter = posInt(et.min_iter, 'min_iter');
    bands = [];
    // Bands without an end: a run's history length picks the last band it passed.
    for (let band = minIter; band < 2 ** 31 && bands.length < 64; band *= eta) bands.push(Math.floor(band));
  } else {
    throw bad('early_terminate hyperband needs min_iter, or max_iter and s');
  }
  return { bands: [...new Set(bands)], eta, strict };
}
