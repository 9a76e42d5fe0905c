import path from 'node:path';
import { invalidParam } from '../../errors.js';
import { LIMITS, validateKey } from '../validation.js';

// The registry's rules from mlflow/utils/validation.py and model_version_stages.py.

export const REGISTRY_LIMITS = {
  tagKeyLength: 250,
  tagValueLength: 100_000,
  aliasLength: 255,
  searchRegisteredModelsDefault: 100,
  searchRegisteredModelsMax: 1000,
  searchModelVersionsDefault: 10_000,
  searchModelVersionsMax: 200_000,
} as const;

export const IS_PROMPT_TAG = 'mlflow.prompt.is_prompt';
/** The only sources a prompt version may have (mlflow/prompt/constants.py). */
export const PROMPT_SOURCES = ['dummy-source', 'prompt-template'];

export function validateModelName(name: string, field = 'name'): void {
  if (name.trim() === '') {
    throw invalidParam(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
  }
  if (name.includes('/') || name.includes(':')) {
    throw invalidParam(`Invalid model name '${name}'. Names cannot contain '/' or ':'.`);
  }
  const norm = path.posix.normalize(name);
  if (norm !== name || norm === '.' || norm.startsWith('..')) {
    throw invalidParam(`Invalid value '${name}' for parameter '${field}' supplied: names must not resolve to other paths`);
  }
  if (/[\0]/.test(name)) throw invalidParam(`Invalid model name: NUL characters are not allowed`);
}

/** Registered-model and model-version tags: keys follow the metric/param/tag name rules. */
export function validateRegistryTag(key: string, value: string): void {
  validateKey('Tag', key);
  if (key.length > REGISTRY_LIMITS.tagKeyLength) {
    throw invalidParam(`Tag key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${REGISTRY_LIMITS.tagKeyLength}`);
  }
  if (value.length > REGISTRY_LIMITS.tagValueLength) {
    const what = key === 'mlflow.prompt.text' ? 'Prompt text' : `Tag value for '${key}'`;
    throw invalidParam(`${what} exceeds max length of ${REGISTRY_LIMITS.tagValueLength} characters.`);
  }
}

export function parseVersion(version: string | number): number {
  const text = String(version).trim();
  if (!/^-?\d{1,15}$/.test(text)) {
    throw invalidParam(`Parameter 'version' must be an integer, got '${String(version).slice(0, 100)}'.`);
  }
  return Number(text);
}

const ALIAS = /^[\p{L}\p{N}_-]*$/u;

export function validateAlias(alias: string): void {
  if (alias === '') throw invalidParam('Registered model alias name cannot be empty.');
  if (!ALIAS.test(alias)) {
    throw invalidParam(`Invalid alias name: '${alias.slice(0, 100)}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  }
  if (alias.length > REGISTRY_LIMITS.aliasLength) {
    throw invalidParam(`Registered model alias name '${alias.slice(0, 50)}...' had length ${alias.length}, which exceeded length limit of ${REGISTRY_LIMITS.aliasLength}`);
  }
}

/** `latest` and `v<digits>` are resolved by the client itself, so they cannot name an alias. */
export function validateAliasNotReserved(alias: string): void {
  if (alias.toLowerCase() === 'latest') throw invalidParam("'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw invalidParam(`Version alias name '${alias}' is reserved.`);
}

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

export function canonicalStage(stage: string): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === stage.trim().toLowerCase());
  if (!found) throw invalidParam(`Invalid Model Version stage: ${stage.slice(0, 100)}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

/** Logged model names may become path segments and URI parts. */
export function validateLoggedModelName(name: string | undefined): void {
  if (name === undefined) return;
  if (name === '' || /[/:.%"']/.test(name)) {
    throw invalidParam(
      `Invalid model name ('${name.slice(0, 100)}') provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '"', "'")`,
    );
  }
  if (name.length > 500) throw invalidParam('Model name exceeds the maximum length of 500 characters');
}

/** Logged-model tag and param keys: the client sends its own (mlflow.*) and the user's. */
export function validateLoggedModelKey(kind: 'Tag' | 'Param', key: string): void {
  if (key === '') throw invalidParam(`${kind} key must not be empty`);
  if (key.length > LIMITS.keyLength) {
    throw invalidParam(`${kind} key '${key.slice(0, 50)}...' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`);
  }
  if (key.includes('\u0000')) throw invalidParam(`${kind} key must not contain NUL characters`);
}

export function checkNoNul(field: string, value: string | undefined): void {
  if (value?.includes('\u0000')) throw invalidParam(`Invalid value for parameter '${field}': NUL characters are not allowed`);
}
