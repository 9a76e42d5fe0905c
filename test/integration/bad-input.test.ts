import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Malformed and hostile requests across the tracking API: each gets the exact MLflow status and
// error code (never a 5xx), and none of them changes a run that already holds data.

interface Ids {
  expId: string;
  expName: string;
  otherExpName: string;
  runId: string;
  deletedRunId: string;
  deletedExpId: string;
}

/** What the deleted run held before the refused writes: its run-name tag (set at create). */
let deletedRunTags: unknown;

type Body = Record<string, unknown>;
interface Case {
  name: string;
  method?: 'get' | 'post' | 'put' | 'delete' | 'patch';
  /** Path under /api/2.0/mlflow unless it starts with /api, /ajax-api or another root. */
  path: string;
  body?: (ids: Ids) => Body;
  /** Sent verbatim as the body (Content-Type: application/json). */
  raw?: string | ((ids: Ids) => string);
  query?: (ids: Ids) => Record<string, string | string[]>;
  status: number;
  code: string;
  message?: string | RegExp;
}

const MISSING_RUN = randomBytes(16).toString('hex');
const MISSING_EXP = '999999999999';
const TS = 1_700_000_000_000;
const metric = (key: string, step: number, value = step) => ({ key, value, timestamp: TS + step, step });
const manyMetrics = (n: number, offset = 10_000) => Array.from({ length: n }, (_, i) => metric('m1', offset + i));
const kvs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'x' }));
const missing = (name: string) => `Missing value for required parameter '${name}'`;
const notActive = /must be in the 'active' state/;
const BAD = 'INVALID_PARAMETER_VALUE';
const NOT_FOUND = 'RESOURCE_DOES_NOT_EXIST';

const cases: Case[] = [
  // Bodies that are not a JSON object.
  { name: 'malformed JSON', path: '/runs/log-metric', raw: '{"run_id": "abc", "key": ', status: 400, code: BAD, message: 'Malformed JSON' },
  { name: 'JSON array as body', path: '/experiments/create', raw: '[{"name": "x"}]', status: 400, code: BAD, message: 'must be a JSON object' },
  { name: 'JSON string as body', path: '/experiments/create', raw: '"just a string"', status: 400, code: BAD, message: 'Malformed JSON' },
  { name: 'JSON string holding an array', path: '/experiments/create', raw: JSON.stringify('[1, 2]'), status: 400, code: BAD, message: 'must be a JSON object' },
  { name: 'JSON number as body', path: '/runs/create', raw: '42', status: 400, code: BAD, message: 'must be a JSON object' },
  { name: 'JSON null as body', path: '/runs/update', raw: 'null', status: 400, code: BAD, message: 'must be a JSON object' },
  { name: 'JSON nested 5000 deep (12 KB)', path: '/experiments/create', raw: `{"name": ${'['.repeat(5000)}${']'.repeat(5000)}}`, status: 400, code: BAD },
  // An own "__proto__" key is just an unknown field: it must not supply the fields it holds.
  { name: 'required field only inside "__proto__"', path: '/experiments/create', raw: () => `{"__proto__": {"name": "${uniqueName('via-proto')}"}}`, status: 400, code: BAD, message: missing('name') },

  // Wrong JSON types.
  { name: 'experiments/create name: 123', path: '/experiments/create', body: () => ({ name: 123 }), status: 400, code: BAD, message: "Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'" },
  { name: 'log-metric timestamp: "foo"', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 1, timestamp: 'foo' }), status: 400, code: BAD, message: `Invalid value "foo" for parameter 'timestamp' supplied:  Hint: Value was of type 'str'` },
  { name: 'log-metric value: true', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: true, timestamp: TS }), status: 400, code: BAD, message: "Invalid value true for parameter 'value' supplied:  Hint: Value was of type 'bool'" },
  { name: 'log-metric value: "abc"', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 'abc', timestamp: TS }), status: 400, code: BAD, message: "parameter 'value'" },
  { name: 'log-metric step: 1.5', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 1, timestamp: TS, step: 1.5 }), status: 400, code: BAD, message: "parameter 'step'" },
  // Numbers quoted as the client wrote them, the way MLflow's Python prints them (a float stays a float).
  { name: 'log-parameter value: 9.0', path: '/runs/log-parameter', raw: (s) => `{"run_id": "${s.runId}", "key": "p9", "value": 9.0}`, status: 400, code: BAD, message: "Invalid value 9.0 for parameter 'value' supplied:  Hint: Value was of type 'float'" },
  { name: 'set-tag value: 1E20', path: '/runs/set-tag', raw: (s) => `{"run_id": "${s.runId}", "key": "t", "value": 1E20}`, status: 400, code: BAD, message: "Invalid value 1e+20 for parameter 'value' supplied:  Hint: Value was of type 'float'" },
  { name: 'runs/create tags: [2.50] (nested)', path: '/runs/create', raw: (s) => `{"experiment_id": "${s.expId}", "tags": [{"key": "a", "value": "b"}, 2.50]}`, status: 400, code: BAD, message: "Invalid value 2.5 for parameter 'tags[1]' supplied:  Hint: Value was of type 'float'" },
  { name: 'log-batch metrics: "x"', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: 'x' }), status: 400, code: BAD, message: `Invalid value "x" for parameter 'metrics' supplied:  Hint: Value was of type 'str'` },
  { name: 'runs/create tags: [1]', path: '/runs/create', body: (s) => ({ experiment_id: s.expId, tags: [1] }), status: 400, code: BAD, message: "Invalid value 1 for parameter 'tags[0]' supplied:  Hint: Value was of type 'int'" },
  { name: 'log-batch params: {}', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, params: { p1: 'v' } }), status: 400, code: BAD, message: "parameter 'params'" },
  { name: 'runs/create start_time: "yesterday"', path: '/runs/create', body: (s) => ({ experiment_id: s.expId, start_time: 'yesterday' }), status: 400, code: BAD, message: "parameter 'start_time'" },
  { name: 'set-experiment-tag value: 5', path: '/experiments/set-experiment-tag', body: (s) => ({ experiment_id: s.expId, key: 'k', value: 5 }), status: 400, code: BAD, message: "parameter 'value'" },
  { name: 'experiments/search view_type: "SOMETIMES"', path: '/experiments/search', body: () => ({ view_type: 'SOMETIMES' }), status: 400, code: BAD, message: "parameter 'view_type'" },

  // Missing and empty required fields.
  { name: 'experiments/create without name', path: '/experiments/create', body: () => ({}), status: 400, code: BAD, message: missing('name') },
  { name: 'experiments/create name ""', path: '/experiments/create', body: () => ({ name: '' }), status: 400, code: BAD, message: missing('name') },
  { name: 'experiments/get without id', method: 'get', path: '/experiments/get', status: 400, code: BAD, message: missing('experiment_id') },
  { name: 'experiments/get-by-name with ""', method: 'get', path: '/experiments/get-by-name', query: () => ({ experiment_name: '' }), status: 400, code: BAD, message: missing('experiment_name') },
  { name: 'experiments/update without new_name', path: '/experiments/update', body: (s) => ({ experiment_id: s.expId }), status: 400, code: BAD, message: missing('new_name') },
  { name: 'runs/get without run_id', method: 'get', path: '/runs/get', status: 400, code: BAD, message: missing('run_id') },
  { name: 'log-metric without run_id', path: '/runs/log-metric', body: () => ({ key: 'm1', value: 1, timestamp: TS }), status: 400, code: BAD, message: missing('run_id') },
  { name: 'log-metric without key', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, value: 1, timestamp: TS }), status: 400, code: BAD, message: missing('key') },
  { name: 'log-metric without timestamp', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 1 }), status: 400, code: BAD, message: missing('timestamp') },
  { name: 'log-parameter key ""', path: '/runs/log-parameter', body: (s) => ({ run_id: s.runId, key: '', value: 'v' }), status: 400, code: BAD, message: missing('key') },
  { name: 'set-tag run_id ""', path: '/runs/set-tag', body: () => ({ run_id: '', key: 'k', value: 'v' }), status: 400, code: BAD, message: missing('run_id') },
  { name: 'delete-tag without key', path: '/runs/delete-tag', body: (s) => ({ run_id: s.runId }), status: 400, code: BAD, message: missing('key') },
  { name: 'log-model without model_json', path: '/runs/log-model', body: (s) => ({ run_id: s.runId }), status: 400, code: BAD, message: missing('model_json') },
  { name: 'log-inputs dataset without digest', path: '/runs/log-inputs', body: (s) => ({ run_id: s.runId, datasets: [{ dataset: { name: 'd', source_type: 'local', source: '{}' } }] }), status: 400, code: BAD, message: missing('datasets[0].dataset.digest') },
  { name: 'log-inputs dataset with digest ""', path: '/runs/log-inputs', body: (s) => ({ run_id: s.runId, datasets: [{ dataset: { name: 'd', digest: '', source_type: 'local', source: '{}' } }] }), status: 400, code: BAD, message: 'digest' },
  { name: 'outputs with no models', path: '/runs/outputs', body: (s) => ({ run_id: s.runId, models: [] }), status: 400, code: BAD, message: "parameter 'models'" },
  { name: 'get-history without metric_key', method: 'get', path: '/metrics/get-history', query: (s) => ({ run_id: s.runId }), status: 400, code: BAD, message: missing('metric_key') },
  { name: 'get-history-bulk-interval without run_ids', method: 'get', path: '/metrics/get-history-bulk-interval', query: () => ({ metric_key: 'm1' }), status: 400, code: BAD, message: missing('run_ids') },

  // Unknown ids.
  { name: 'experiments/get unknown id', method: 'get', path: '/experiments/get', query: () => ({ experiment_id: MISSING_EXP }), status: 404, code: NOT_FOUND, message: MISSING_EXP },
  { name: 'experiments/get-by-name unknown name', method: 'get', path: '/experiments/get-by-name', query: () => ({ experiment_name: uniqueName('nope') }), status: 404, code: NOT_FOUND, message: 'Could not find experiment' },
  { name: 'experiments/update unknown id', path: '/experiments/update', body: () => ({ experiment_id: MISSING_EXP, new_name: uniqueName('x') }), status: 404, code: NOT_FOUND },
  { name: 'experiments/delete unknown id', path: '/experiments/delete', body: () => ({ experiment_id: MISSING_EXP }), status: 404, code: NOT_FOUND },
  { name: 'experiments/restore unknown id', path: '/experiments/restore', body: () => ({ experiment_id: MISSING_EXP }), status: 404, code: NOT_FOUND },
  { name: 'set-experiment-tag unknown id', path: '/experiments/set-experiment-tag', body: () => ({ experiment_id: MISSING_EXP, key: 'k', value: 'v' }), status: 404, code: NOT_FOUND },
  { name: 'delete-experiment-tag missing tag', path: '/experiments/delete-experiment-tag', body: (s) => ({ experiment_id: s.expId, key: 'never-set' }), status: 404, code: NOT_FOUND, message: 'No tag with name' },
  { name: 'runs/create in unknown experiment', path: '/runs/create', body: () => ({ experiment_id: MISSING_EXP }), status: 404, code: NOT_FOUND },
  { name: 'runs/get unknown run', method: 'get', path: '/runs/get', query: () => ({ run_id: MISSING_RUN }), status: 404, code: NOT_FOUND, message: `Run with id=${MISSING_RUN} not found` },
  { name: 'runs/update unknown run', path: '/runs/update', body: () => ({ run_id: MISSING_RUN, status: 'FINISHED' }), status: 404, code: NOT_FOUND },
  { name: 'runs/delete unknown run', path: '/runs/delete', body: () => ({ run_id: MISSING_RUN }), status: 404, code: NOT_FOUND },
  { name: 'runs/restore unknown run', path: '/runs/restore', body: () => ({ run_id: MISSING_RUN }), status: 404, code: NOT_FOUND },
  { name: 'log-metric unknown run', path: '/runs/log-metric', body: () => ({ run_id: MISSING_RUN, key: 'm', value: 1, timestamp: TS }), status: 404, code: NOT_FOUND },
  { name: 'log-parameter unknown run (run_uuid)', path: '/runs/log-parameter', body: () => ({ run_uuid: MISSING_RUN, key: 'p', value: 'v' }), status: 404, code: NOT_FOUND },
  { name: 'log-batch unknown run', path: '/runs/log-batch', body: () => ({ run_id: MISSING_RUN, metrics: [metric('m', 0)] }), status: 404, code: NOT_FOUND },
  { name: 'log-inputs unknown run', path: '/runs/log-inputs', body: () => ({ run_id: MISSING_RUN, models: [{ model_id: 'm-1' }] }), status: 404, code: NOT_FOUND },
  { name: 'delete-tag missing tag', path: '/runs/delete-tag', body: (s) => ({ run_id: s.runId, key: 'never-set' }), status: 404, code: NOT_FOUND, message: 'No tag with name' },
  { name: 'get-history unknown run', method: 'get', path: '/metrics/get-history', query: () => ({ run_id: MISSING_RUN, metric_key: 'm1' }), status: 404, code: NOT_FOUND },

  // Malformed ids.
  { name: 'experiments/get id "../etc"', method: 'get', path: '/experiments/get', query: () => ({ experiment_id: '../etc' }), status: 400, code: BAD, message: 'Invalid experiment ID' },
  { name: 'experiments/delete id with a space', path: '/experiments/delete', body: () => ({ experiment_id: '1 OR 1=1' }), status: 400, code: BAD, message: 'Invalid experiment ID' },
  { name: 'runs/get run_id "../../x"', method: 'get', path: '/runs/get', query: () => ({ run_id: '../../x' }), status: 400, code: BAD, message: 'Invalid run ID' },
  { name: 'log-metric run_id with a quote', path: '/runs/log-metric', body: () => ({ run_id: "a' OR '1'='1", key: 'm', value: 1, timestamp: TS }), status: 400, code: BAD, message: 'Invalid run ID' },
  { name: 'runs/search experiment_ids ["a b"]', path: '/runs/search', body: () => ({ experiment_ids: ['a b'] }), status: 400, code: BAD, message: 'Invalid experiment ID' },
  { name: 'get-history-bulk-interval bad run id', method: 'get', path: '/metrics/get-history-bulk-interval', query: () => ({ run_ids: ['/etc/passwd'], metric_key: 'm1' }), status: 400, code: BAD, message: 'Invalid run ID' },

  // log-batch limits, on the run that holds data (nothing may change).
  { name: 'log-batch body over 1,000,000 bytes', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, tags: [{ key: 'big', value: 'x'.repeat(1_000_001) }] }), status: 400, code: BAD, message: 'exceeds the limit of 1000000 bytes' },
  { name: 'log-batch with 1001 metrics', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: manyMetrics(1001) }), status: 400, code: BAD, message: 'at most 1000 metrics' },
  { name: 'log-batch with 101 params', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, params: kvs('np', 101) }), status: 400, code: BAD, message: 'at most 100 params' },
  { name: 'log-batch with 101 tags', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, tags: kvs('nt', 101) }), status: 400, code: BAD, message: 'at most 100 tags' },
  { name: 'log-batch with 1001 items in total', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: manyMetrics(900), params: kvs('np', 100), tags: kvs('nt', 1) }), status: 400, code: BAD, message: 'at most 1000 metrics, params, and tags in total' },
  { name: 'log-batch with duplicate param keys', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: [metric('m1', 500)], params: [{ key: 'dup', value: 'a' }, { key: 'dup', value: 'a' }] }), status: 400, code: BAD, message: 'Duplicate parameter keys' },
  { name: 'log-batch changing a param (with a metric)', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: [metric('m1', 501)], params: [{ key: 'fresh', value: 'f' }, { key: 'p1', value: 'changed' }] }), status: 400, code: BAD, message: 'Changing param values is not allowed' },
  { name: 'log-parameter changing a param', path: '/runs/log-parameter', body: (s) => ({ run_id: s.runId, key: 'p1', value: 'changed' }), status: 400, code: BAD, message: 'Changing param values is not allowed' },

  // Invalid keys.
  { name: 'metric key "../x"', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: '../x', value: 1, timestamp: TS }), status: 400, code: BAD, message: 'Invalid metric name' },
  { name: 'param key "/abs"', path: '/runs/log-parameter', body: (s) => ({ run_id: s.runId, key: '/abs', value: 'v' }), status: 400, code: BAD, message: 'Invalid param name' },
  { name: 'tag key "a//b"', path: '/runs/set-tag', body: (s) => ({ run_id: s.runId, key: 'a//b', value: 'v' }), status: 400, code: BAD, message: 'Invalid tag name' },
  { name: 'metric key of 251 chars', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'k'.repeat(251), value: 1, timestamp: TS }), status: 400, code: BAD, message: 'exceeded length limit of 250' },
  { name: 'param key with NUL', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: [metric('m1', 502)], params: [{ key: 'a\u0000b', value: 'v' }] }), status: 400, code: BAD, message: "parameter 'key': it contains a NUL character" },
  { name: 'tag key with "*"', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: [metric('m1', 503)], tags: [{ key: 'a*', value: 'v' }] }), status: 400, code: BAD, message: 'Invalid tag name' },
  { name: 'experiment tag key "../x"', path: '/experiments/set-experiment-tag', body: (s) => ({ experiment_id: s.expId, key: '../x', value: 'v' }), status: 400, code: BAD, message: 'Invalid tag name' },
  { name: 'runs/create tag key "/abs"', path: '/runs/create', body: (s) => ({ experiment_id: s.expId, tags: [{ key: '/abs', value: 'v' }] }), status: 400, code: BAD, message: 'Invalid tag name' },

  // Timestamps: negative and beyond int64.
  { name: 'log-metric negative timestamp', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 1, timestamp: -1, step: 600 }), status: 400, code: BAD, message: 'Timestamp must be a nonnegative' },
  { name: 'log-metric timestamp 99999999999999999999', path: '/runs/log-metric', raw: (s) => `{"run_id": "${s.runId}", "key": "m1", "value": 1, "step": 601, "timestamp": 99999999999999999999}`, status: 400, code: BAD, message: 'timestamp' },
  { name: 'log-batch timestamp "99999999999999999999" after a valid metric', path: '/runs/log-batch', body: (s) => ({ run_id: s.runId, metrics: [metric('m1', 602), { key: 'm1', value: 1, step: 603, timestamp: '99999999999999999999' }] }), status: 400, code: BAD },
  { name: 'log-metric step "99999999999999999999"', path: '/runs/log-metric', body: (s) => ({ run_id: s.runId, key: 'm1', value: 1, timestamp: TS, step: '99999999999999999999' }), status: 400, code: BAD },
  { name: 'runs/update end_time "99999999999999999999"', path: '/runs/update', body: (s) => ({ run_id: s.runId, status: 'FINISHED', end_time: '99999999999999999999' }), status: 400, code: BAD },
  { name: 'runs/create start_time 99999999999999999999', path: '/runs/create', raw: (s) => `{"experiment_id": "${s.expId}", "start_time": 99999999999999999999}`, status: 400, code: BAD, message: 'start_time' },

  // Search: filters, order_by, max_results, page tokens.
  { name: "runs/search filter metrics.x < 'a'", path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], filter: "metrics.x < 'a'" }), status: 400, code: BAD, message: 'Expected a numeric value' },
  { name: 'runs/search filter with OR', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], filter: "params.a = '1' OR params.b = '2'" }), status: 400, code: BAD, message: 'OR is not supported' },
  { name: 'runs/search filter with an unterminated quote', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], filter: "params.a = 'oops" }), status: 400, code: BAD, message: 'Unterminated' },
  { name: 'runs/search filter with an unknown prefix', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], filter: "bogus.a = '1'" }), status: 400, code: BAD, message: "Invalid entity type 'bogus'" },
  { name: 'runs/search bad order_by direction', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], order_by: ['metrics.m1 sideways'] }), status: 400, code: BAD, message: 'order_by' },
  { name: 'runs/search order_by unknown attribute', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], order_by: ['attributes.color'] }), status: 400, code: BAD, message: "Invalid order_by attribute 'color'" },
  { name: 'runs/search max_results 50001', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], max_results: 50001 }), status: 400, code: BAD, message: 'at most 50000' },
  { name: 'runs/search bad page_token', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], page_token: '!!not-a-token!!' }), status: 400, code: BAD, message: 'Invalid page token' },
  { name: 'runs/search page_token with a negative offset', path: '/runs/search', body: (s) => ({ experiment_ids: [s.expId], page_token: Buffer.from('{"offset": -5}').toString('base64') }), status: 400, code: BAD, message: 'Invalid page token' },
  { name: 'experiments/search filter with OR', path: '/experiments/search', body: () => ({ filter: "name = 'a' OR name = 'b'" }), status: 400, code: BAD, message: 'OR is not supported' },
  { name: 'experiments/search filter on metrics', path: '/experiments/search', body: () => ({ filter: 'metrics.x > 1' }), status: 400, code: BAD, message: 'metrics' },
  { name: 'experiments/search bad order_by', method: 'get', path: '/experiments/search', query: () => ({ order_by: 'bogus_column DESC' }), status: 400, code: BAD, message: "Invalid order_by attribute 'bogus_column'" },
  { name: 'experiments/search max_results 50001', path: '/experiments/search', body: () => ({ max_results: 50001 }), status: 400, code: BAD, message: 'at most 50000' },
  { name: 'experiments/search bad page_token', path: '/experiments/search', body: () => ({ page_token: 'eyJvZmZzZXQiOiAiYWJjIn0=' }), status: 400, code: BAD, message: 'Invalid page token' },
  { name: 'get-history bad page_token', method: 'get', path: '/metrics/get-history', query: (s) => ({ run_id: s.runId, metric_key: 'm1', page_token: 'garbage' }), status: 400, code: BAD, message: 'Invalid page token' },
  { name: 'get-history max_results 0', method: 'get', path: '/metrics/get-history', query: (s) => ({ run_id: s.runId, metric_key: 'm1', max_results: '0' }), status: 400, code: BAD, message: 'max_results' },
  { name: 'get-history-bulk-interval 101 run ids', method: 'get', path: '/metrics/get-history-bulk-interval', query: () => ({ run_ids: Array.from({ length: 101 }, () => randomBytes(16).toString('hex')), metric_key: 'm1' }), status: 400, code: BAD, message: 'must specify at most 100 run_ids. Received 101 run_ids.' },
  { name: 'get-history-bulk-interval start_step without end_step', method: 'get', path: '/metrics/get-history-bulk-interval', query: (s) => ({ run_ids: [s.runId], metric_key: 'm1', start_step: '1' }), status: 400, code: BAD, message: 'both must be specified' },

  // Run and experiment state.
  { name: 'runs/update invalid status', path: '/runs/update', body: (s) => ({ run_id: s.runId, status: 'SLEEPING' }), status: 400, code: BAD, message: "Invalid value 'SLEEPING' for parameter 'status'" },
  { name: 'log-metric to a deleted run', path: '/runs/log-metric', body: (s) => ({ run_id: s.deletedRunId, key: 'm', value: 1, timestamp: TS }), status: 400, code: BAD, message: notActive },
  { name: 'log-parameter to a deleted run', path: '/runs/log-parameter', body: (s) => ({ run_id: s.deletedRunId, key: 'p', value: 'v' }), status: 400, code: BAD, message: notActive },
  { name: 'set-tag on a deleted run', path: '/runs/set-tag', body: (s) => ({ run_id: s.deletedRunId, key: 't', value: 'v' }), status: 400, code: BAD, message: notActive },
  { name: 'delete-tag on a deleted run', path: '/runs/delete-tag', body: (s) => ({ run_id: s.deletedRunId, key: 'mlflow.runName' }), status: 400, code: BAD, message: notActive },
  { name: 'log-batch to a deleted run', path: '/runs/log-batch', body: (s) => ({ run_id: s.deletedRunId, metrics: [metric('m', 1)] }), status: 400, code: BAD, message: notActive },
  { name: 'runs/update a deleted run', path: '/runs/update', body: (s) => ({ run_id: s.deletedRunId, status: 'FINISHED' }), status: 400, code: BAD, message: notActive },
  { name: 'log-inputs to a deleted run', path: '/runs/log-inputs', body: (s) => ({ run_id: s.deletedRunId, models: [{ model_id: 'm-1' }] }), status: 400, code: BAD, message: notActive },
  { name: 'outputs on a deleted run', path: '/runs/outputs', body: (s) => ({ run_id: s.deletedRunId, models: [{ model_id: 'm-1', step: 0 }] }), status: 400, code: BAD, message: notActive },
  { name: 'log-model to a deleted run', path: '/runs/log-model', body: (s) => ({ run_id: s.deletedRunId, model_json: JSON.stringify({ artifact_path: 'm', flavors: {}, utc_time_created: 'now', run_id: s.deletedRunId }) }), status: 400, code: BAD, message: notActive },
  { name: 'log-model with model_json not JSON', path: '/runs/log-model', body: (s) => ({ run_id: s.runId, model_json: '{nope' }), status: 400, code: BAD, message: 'Malformed model info' },
  { name: 'runs/create in a deleted experiment', path: '/runs/create', body: (s) => ({ experiment_id: s.deletedExpId }), status: 400, code: BAD, message: notActive },
  { name: 'set-experiment-tag on a deleted experiment', path: '/experiments/set-experiment-tag', body: (s) => ({ experiment_id: s.deletedExpId, key: 'k', value: 'v' }), status: 400, code: BAD, message: notActive },
  { name: 'delete-experiment-tag on a deleted experiment', path: '/experiments/delete-experiment-tag', body: (s) => ({ experiment_id: s.deletedExpId, key: 'k' }), status: 400, code: BAD, message: notActive },
  // The codes of mlflow server 3.18 (test/compat/test_errors.py, test_experiments.py); its 500 for INVALID_STATE is a 400 here.
  { name: 'experiments/update a deleted experiment', path: '/experiments/update', body: (s) => ({ experiment_id: s.deletedExpId, new_name: uniqueName('renamed') }), status: 400, code: 'INVALID_STATE', message: 'Cannot rename a non-active experiment.' },
  { name: 'experiments/delete twice', path: '/experiments/delete', body: (s) => ({ experiment_id: s.deletedExpId }), status: 400, code: BAD },
  { name: 'experiments/restore an active experiment', path: '/experiments/restore', body: (s) => ({ experiment_id: s.expId }), status: 400, code: BAD },
  { name: 'experiments/delete the Default experiment', path: '/experiments/delete', body: () => ({ experiment_id: '0' }), status: 400, code: BAD, message: 'default experiment' },
  { name: 'experiments/create duplicate name', path: '/experiments/create', body: (s) => ({ name: s.expName }), status: 400, code: 'RESOURCE_ALREADY_EXISTS', message: 'already exists' },
  { name: 'experiments/create name of a deleted experiment', path: '/experiments/create', body: (s) => ({ name: s.otherExpName }), status: 400, code: 'RESOURCE_ALREADY_EXISTS', message: 'already exists' },
  { name: 'experiments/update to a taken name', path: '/experiments/update', body: (s) => ({ experiment_id: s.expId, new_name: s.otherExpName }), status: 400, code: 'BAD_REQUEST', message: 'already exists' },
  { name: 'experiments/create name of 501 chars', path: '/experiments/create', body: () => ({ name: 'n'.repeat(501) }), status: 400, code: BAD, message: '500' },
  { name: 'experiments/create artifact_location runs:/', path: '/experiments/create', body: () => ({ name: uniqueName('bad-loc'), artifact_location: 'runs:/abc/artifacts' }), status: 400, code: BAD, message: 'runs:/' },
  { name: 'set-experiment-tag value over 5000 chars', path: '/experiments/set-experiment-tag', body: (s) => ({ experiment_id: s.expId, key: 'k', value: 'v'.repeat(5001) }), status: 400, code: BAD, message: '5000' },

  // Routing.
  { name: 'unknown route', path: '/runs/log-everything', body: () => ({}), status: 404, code: 'ENDPOINT_NOT_FOUND' },
  { name: 'unknown API version', method: 'get', path: '/api/9.9/mlflow/runs/get', status: 404, code: 'ENDPOINT_NOT_FOUND' },
  { name: 'GET on a POST-only path', method: 'get', path: '/runs/log-batch', status: 405, code: 'ENDPOINT_NOT_FOUND', message: 'not allowed' },
  { name: 'DELETE on a GET-only path', method: 'delete', path: '/runs/get', status: 405, code: 'ENDPOINT_NOT_FOUND', message: 'not allowed' },
  { name: 'PUT on an ajax-api path', method: 'put', path: '/ajax-api/2.0/mlflow/experiments/create', body: () => ({ name: 'x' }), status: 405, code: 'ENDPOINT_NOT_FOUND' },
];

const fullPath = (p: string) => (/^\/(api|ajax-api)\//.test(p) ? p : `/api/2.0/mlflow${p}`);

describe('bad input', () => {
  let t: TestApp;
  const ids = {} as Ids;
  let before: { run: unknown; m1: unknown; m2: unknown };

  const readState = async () => {
    const run = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: ids.runId }).expect(200);
    const m1 = await t.api.get('/api/2.0/mlflow/metrics/get-history').query({ run_id: ids.runId, metric_key: 'm1' }).expect(200);
    const m2 = await t.api.get('/api/2.0/mlflow/metrics/get-history').query({ run_id: ids.runId, metric_key: 'm2' }).expect(200);
    return { run: run.body, m1: m1.body, m2: m2.body };
  };
  const post = async (path: string, body: Body) => {
    const res = await t.api.post(`/api/2.0/mlflow${path}`).send(body);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp();
    ids.expName = uniqueName('bad-input');
    ids.otherExpName = uniqueName('bad-input-deleted');
    ids.expId = (await post('/experiments/create', { name: ids.expName })).experiment_id;
    ids.runId = (await post('/runs/create', { experiment_id: ids.expId, run_name: 'known', start_time: TS })).run.info.run_id;
    ids.deletedRunId = (await post('/runs/create', { experiment_id: ids.expId, start_time: TS })).run.info.run_id;
    deletedRunTags = (await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: ids.deletedRunId }).expect(200)).body.run.data.tags;
    await post('/runs/delete', { run_id: ids.deletedRunId });
    ids.deletedExpId = (await post('/experiments/create', { name: ids.otherExpName })).experiment_id;
    await post('/experiments/set-experiment-tag', { experiment_id: ids.deletedExpId, key: 'k', value: 'v' });
    await post('/experiments/delete', { experiment_id: ids.deletedExpId });

    await post('/runs/log-batch', {
      run_id: ids.runId,
      params: [{ key: 'p1', value: 'v1' }, { key: 'p2', value: 'v2' }],
      tags: [{ key: 't1', value: 'a' }, { key: 't2', value: 'b' }],
      metrics: [0, 1, 2, 3].map((step) => metric('m1', step, step / 10)),
    });
    await post('/runs/log-metric', { run_id: ids.runId, ...metric('m1', 4, 0.4) });
    await post('/runs/log-metric', { run_id: ids.runId, key: 'm2', value: 'NaN', timestamp: TS, step: 0 });
    before = await readState();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts from the known run state', () => {
    const run = before.run as { run: { info: { status: string }; data: Record<string, { key: string; value: unknown }[]> } };
    expect(run.run.info.status).toBe('RUNNING');
    expect(run.run.data.params).toEqual([{ key: 'p1', value: 'v1' }, { key: 'p2', value: 'v2' }]);
    expect(run.run.data.tags).toEqual([{ key: 'mlflow.runName', value: 'known' }, { key: 't1', value: 'a' }, { key: 't2', value: 'b' }]);
    expect(run.run.data.metrics).toEqual([
      { key: 'm1', value: 0.4, timestamp: TS + 4, step: 4 },
      { key: 'm2', value: 'NaN', timestamp: TS, step: 0 },
    ]);
    expect((before.m1 as { metrics: { step: number }[] }).metrics.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
  });

  it('has at least 40 cases with unique names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name -> $status $code', async (c) => {
    const method = c.method ?? 'post';
    let path = fullPath(c.path);
    if (c.query) path += `?${new URLSearchParams(Object.entries(c.query(ids)).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x])))}`;
    let req = t.api[method](path);
    if (c.raw !== undefined) req = req.set('Content-Type', 'application/json').send(typeof c.raw === 'string' ? c.raw : c.raw(ids));
    else if (c.body) req = req.send(c.body(ids));
    const res = await req;
    const detail = `${method.toUpperCase()} ${c.path} -> ${res.status} ${res.text.slice(0, 400)}`;
    expect(res.status, detail).toBeLessThan(500);
    expect(res.status, detail).toBe(c.status);
    expect(res.headers['content-type'], detail).toMatch(/application\/json/);
    expect(res.body.error_code, detail).toBe(c.code);
    expect(typeof res.body.message, detail).toBe('string');
    if (c.message !== undefined) expect(res.body.message, detail).toMatch(c.message instanceof RegExp ? c.message : escape(c.message));
  });

  it('left the known run state unchanged', async () => {
    expect(await readState()).toEqual(before);
  });

  it('left the deleted run and experiment as they were', async () => {
    const run = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: ids.deletedRunId }).expect(200);
    expect(run.body.run.info.lifecycle_stage).toBe('deleted');
    expect(run.body.run.info.status).toBe('RUNNING');
    expect(run.body.run.data.metrics).toBeUndefined();
    expect(run.body.run.data.params).toBeUndefined();
    // set-tag 't' and delete-tag 'mlflow.runName' were refused: the tags are the ones it was created with.
    expect(deletedRunTags).toEqual([{ key: 'mlflow.runName', value: expect.any(String) }]);
    expect(run.body.run.data.tags).toEqual(deletedRunTags);
    const exp = await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: ids.deletedExpId }).expect(200);
    expect(exp.body.experiment).toMatchObject({ name: ids.otherExpName, lifecycle_stage: 'deleted', tags: [{ key: 'k', value: 'v' }] });
    const live = await t.api.get('/api/2.0/mlflow/experiments/get').query({ experiment_id: ids.expId }).expect(200);
    expect(live.body.experiment.name).toBe(ids.expName);
    expect(live.body.experiment.tags).toBeUndefined();
  });
});

const escape = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
