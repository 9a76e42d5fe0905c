import path from 'node:path';
import { invalidParam } from '../errors.js';

// The limits of mlflow/utils/validation.py, enforced here because not every client enforces them.
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  runTagValueLength: 8000,
  experimentTagValueLength: 5000,
  experimentNameLength: 500,
  artifactLocationLength: 2048,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  batchBodyBytes: 1_000_000,
  searchRunsMaxResults: 50_000,
  searchExperimentsMaxResults: 50_000,
  historyPageSize: 25_000,
} as const;

const NAME_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;

/** Metric, param and tag keys: may become file names, so they must be safe and canonical as paths. */
export function validateKey(kind: 'Metric' | 'Param' | 'Tag', key: string): void {
  if (key.length > LIMITS.keyLength) {
    throw invalidParam(`${kind} name '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`);
  }
  if (!NAME_CHARS.test(key)) {
    throw invalidParam(
      `Invalid ${kind.toLowerCase()} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  const norm = path.posix.normalize(key).replace(/(.)\/+$/, '$1');
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw invalidParam(
      `Invalid ${kind.toLowerCase()} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
    );
  }
}

/** Long param and tag values are truncated, as MLflow does by default (MLFLOW_TRUNCATE_LONG_VALUES). */
export const truncate = (value: string, limit: number) => (value.length > limit ? value.slice(0, limit) : value);

export function validateExperimentName(name: string): void {
  if (!name.trim()) throw invalidParam(`Invalid experiment name: '${name}'. The name must not be empty or only whitespace.`);
  if (name.length > LIMITS.experimentNameLength) {
    throw invalidParam(`Experiment name exceeds the maximum length of ${LIMITS.experimentNameLength} characters`);
  }
}

export function validateArtifactLocation(location: string): void {
  if (location.length > LIMITS.artifactLocationLength) {
    throw invalidParam(`Invalid artifact location: longer than ${LIMITS.artifactLocationLength} characters`);
  }
  if (location.startsWith('runs:')) {
    throw invalidParam(`Artifact location cannot be a runs:/ URI. Given: '${location}'`);
  }
  if (/[\0-\x1f]/.test(location)) throw invalidParam('Invalid artifact location: control characters are not allowed');
}

export function validateMaxResults(value: number | undefined, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  // MLflow's two wordings, which the client shows as they are.
  if (value <= 0) throw invalidParam(`Invalid value ${value} for parameter 'max_results' supplied. It must be a positive integer`);
  if (value > max) throw invalidParam(`Invalid value ${value} for parameter 'max_results' supplied. It must be at most ${max}`);
  return value;
}
