import type { Client } from './load.js';

// The MLflow REST calls the scenarios use for setup, identical for both servers.
export const API = '/api/2.0/mlflow';

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

let unique = 0;
/** A name no earlier call in this process has used (experiments are unique by name). */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(unique++).toString(36)}`;

export async function createExperiment(c: Client, name: string): Promise<string> {
  const r = await c.api<{ experiment_id: string }>('POST', `${API}/experiments/create`, { name });
  return r.experiment_id;
}

export function createRunBody(experimentId: string, i: number) {
  return {
    experiment_id: experimentId,
    run_name: `run-${i}`,
    start_time: Date.now(),
    tags: [
      { key: 'mlflow.user', value: 'bench' },
      { key: 'mlflow.source.name', value: 'train.py' },
    ],
  };
}

export async function createRun(c: Client, experimentId: string, i = 0): Promise<string> {
  const r = await c.api<{ run: { info: { run_id: string } } }>('POST', `${API}/runs/create`, createRunBody(experimentId, i));
  return r.run.info.run_id;
}

export async function logBatch(
  c: Client,
  runId: string,
  batch: { metrics?: Metric[]; params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] },
): Promise<void> {
  await c.api('POST', `${API}/runs/log-batch`, { run_id: runId, ...batch });
}

/** `keys` metrics at each of `steps` consecutive steps starting at `firstStep`. */
export function metricGrid(keys: number, steps: number, firstStep: number, prefix = 'm'): Metric[] {
  const out: Metric[] = [];
  const now = Date.now();
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < keys; k++) out.push({ key: `${prefix}${k}`, value: Math.random(), timestamp: now, step: firstStep + s });
  }
  return out;
}

// 1024 random values, printed once: the load generator shares the machine with the servers, so the
// big log-batch bodies are built as text rather than as objects passed through JSON.stringify.
const VALUES = Array.from({ length: 1024 }, () => String(Math.random()));
let nextValue = 0;

/** The JSON text of a log-batch request: `keys` metrics at each of `steps` steps from `firstStep`. */
export function metricBatchJson(runId: string, keys: number, steps: number, firstStep: number, prefix = 'm'): string {
  const now = Date.now();
  let out = `{"run_id":"${runId}","metrics":[`;
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < keys; k++) {
      out += `${s || k ? ',' : ''}{"key":"${prefix}${k}","value":${VALUES[nextValue++ & 1023]},"timestamp":${now},"step":${firstStep + s}}`;
    }
  }
  return out + ']}';
}

export function params(n: number, tag = ''): { key: string; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `param_${i}`, value: `value-${i}${tag}` }));
}
