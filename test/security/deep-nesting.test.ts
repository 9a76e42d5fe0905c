import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEPTH, nestingDepth } from '../../src/routes/wandb/graphql.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { basic, newKey, VIEWER } from '../integration/wandb-helpers.js';

// Values nested thousands deep overflow the stack of any recursive walk over them (JSON.stringify,
// graphql-js): each must be a 400 in the caller's words, never a 500.

const DEEP = 10_000;
// A GET's token must fit Node's 16 KiB header limit (past it, a 431): 5,500 levels already
// overflowed JSON.stringify inside the server.
const GET_DEEP = 5_500;
const deepToken = (depth = DEEP) => Buffer.from(`{"offset":${'['.repeat(depth)}${']'.repeat(depth)}}`).toString('base64');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('a page_token holding JSON nested 10,000 deep', () => {
  it.each([
    ['GET', '/api/2.0/mlflow/experiments/search?max_results=5&page_token='],
    ['GET', '/api/2.0/mlflow/registered-models/search?page_token='],
    ['GET', '/api/2.0/mlflow/model-versions/search?page_token='],
  ])('%s %s is a 400', async (_method, url) => {
    const res = await t.api.get(url + encodeURIComponent(deepToken(GET_DEEP)));
    expect(res.status, res.text).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.body.message).toMatch(/page token/i);
  });

  it('POST experiments/search is a 400', async () => {
    const res = await t.api.post('/api/2.0/mlflow/experiments/search').send({ max_results: 5, page_token: deepToken() });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('POST runs/search is a 400', async () => {
    const { body } = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('deep') });
    const res = await t.api.post('/api/2.0/mlflow/runs/search').send({ experiment_ids: [body.experiment_id], page_token: deepToken() });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('POST logged-models/search is a 400, whichever field is deep', async () => {
    const { body } = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('deep-lm') });
    const deepIds = Buffer.from(`{"offset":1,"experiment_ids":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`).toString('base64');
    const deepOrder = Buffer.from(`{"offset":1,"experiment_ids":["${body.experiment_id}"],"order_by":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`).toString('base64');
    for (const token of [deepToken(), deepIds, deepOrder]) {
      const res = await t.api.post('/api/2.0/mlflow/logged-models/search').send({ experiment_ids: [body.experiment_id], page_token: token });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('GET metrics/get-history is a 400', async () => {
    const { body } = await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('deep-h') });
    const { body: run } = await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: body.experiment_id });
    const token = Buffer.from(`{"s":${'['.repeat(GET_DEEP)}${']'.repeat(GET_DEEP)},"t":"1","v":1}`).toString('base64url');
    const res = await t.api.get(`/api/2.0/mlflow/metrics/get-history?run_id=${run.run.info.run_id}&metric_key=m&max_results=5&page_token=${token}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('a GraphQL document nested 2,000 deep', () => {
  it('is a 400 naming the limit, and the client documents still pass', async () => {
    const key = await newKey(t);
    const deep = `query Deep { viewer { ${'teams { edges { node { '.repeat(700)}name${' } } }'.repeat(700)} } }`;
    const res = await t.api.post('/graphql').set('Authorization', basic(key)).send({ query: deep });
    expect(res.status, res.text).toBe(400);
    expect(res.body.errors[0].message).toMatch(new RegExp(`nested too deeply.*${MAX_DEPTH}`));
    const braces = `{${'a{'.repeat(2000)}b${'}'.repeat(2001)}`;
    const res2 = await t.api.post('/graphql').set('Authorization', basic(key)).send({ query: braces });
    expect(res2.status, res2.text).toBe(400);
    const ok = await t.api.post('/graphql').set('Authorization', basic(key)).send({ query: VIEWER });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data.viewer).toBeTruthy();
  });

  it('counts brackets, not the characters inside strings or comments', () => {
    expect(nestingDepth('{ a(x: "{{{{[[[(((") { b } }')).toBe(2);
    expect(nestingDepth('# {{{{{{\n{ a }')).toBe(1);
    expect(nestingDepth('{ a(x: """ {{{ \\""" {{ """) }')).toBe(2);
    expect(nestingDepth('{ a(x: [[1]]) }')).toBe(4);
  });
});
