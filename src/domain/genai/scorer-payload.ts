import { invalidParam, notFound } from '../../errors.js';
import { jsonDeeperThan } from '../../lib/json-depth.js';

// The checks MLflow's server makes on a serialized scorer before storing it. Cairn never runs a
// scorer, but it refuses what MLflow refuses so a registration that works here works there too.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// mlflow 3.18's DECORATOR_SCORER_REGISTRATION_NOT_SUPPORTED_ERROR, word for word: the client shows it.
const DECORATOR_REFUSED =
  'Custom scorer registration (using @scorer decorator) is disabled by default outside of Databricks tracking environments due to ' +
  'security concerns. Custom scorers require arbitrary code execution during deserialization.\n\n' +
  'To use custom scorers:\n' +
  '1. Configure MLflow to use a Databricks tracking URI, or\n' +
  '2. Manage your custom scorer code in a source code repository (e.g., GitHub) and import it directly, or\n' +
  "3. On a self-managed MLflow server (or local environment) that you trust to run the scorer's code, " +
  'set the MLFLOW_SERVER_ENABLE_CUSTOM_SCORERS environment variable to true, or\n' +
  '4. Use built-in scorers or make_judge() scorers instead.';

/** A custom `@scorer` (its `call_source` is code the server would exec), at any depth (ensembles). */
function hasCallSource(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasCallSource);
  if (!isObj(v)) return false;
  return (v.call_source !== undefined && v.call_source !== null) || Object.values(v).some(hasCallSource);
}

/** The judge model the scorer names, where MLflow's extract_model_from_serialized_scorer looks. */
function modelOf(d: Obj): unknown {
  for (const k of ['instructions_judge_pydantic_data', 'builtin_scorer_pydantic_data', 'third_party_scorer_data']) {
    if (isObj(d[k])) return (d[k] as Obj).model;
  }
  const mem = d.memory_augmented_judge_data;
  return isObj(mem) && isObj(mem.base_judge) ? modelOf(mem.base_judge) : undefined;
}

export function checkScorerPayload(serialized: string): void {
  let data: unknown;
  try {
    data = JSON.parse(serialized);
  } catch {
    throw invalidParam('serialized_scorer must be valid JSON');
  }
  // It is walked recursively below (ensembles nest scorers); a bound keeps that off the stack's edge.
  if (jsonDeeperThan(data, 64)) throw invalidParam('serialized_scorer is nested more than 64 levels deep');
  if (hasCallSource(data)) throw invalidParam(DECORATOR_REFUSED);
  if (!isObj(data)) return;
  const model = modelOf(data);
  if (model === undefined || model === null) return;
  if (typeof model !== 'string') throw invalidParam(`Scorer model must be a string, got ${Array.isArray(model) ? 'list' : typeof model}.`);
  if (!model.trim()) throw invalidParam('Scorer model cannot be empty or contain only whitespace.');
  // MLflow resolves `gateway:/<endpoint>` through its AI gateway, which Cairn does not have.
  if (model.startsWith('gateway:/')) throw notFound(`Cairn has no AI gateway, so the scorer's endpoint '${model.slice(9, 259)}' does not exist`);
}
