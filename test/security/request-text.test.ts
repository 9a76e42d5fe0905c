// Class: text that cannot be stored as sent. Invalid UTF-8 in a JSON body was decoded leniently and
// stored as U+FFFD (silent data change); a NUL character (JSON "\u0000") reached Postgres, whose
// own error wording went back to the user; a lone surrogate ("\ud800") was written as U+FFFD by the
// driver. Each is now a 400 INVALID_PARAMETER_VALUE naming the problem, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { basic, line, runIdSuffix, startWandbApp, UPSERT_BUCKET, type Client } from '../integration/wandb-helpers.js';

const API = '/api/2.0/mlflow';
const S = runIdSuffix();
let t: TestApp;
let w: Client;
let key: string;
beforeAll(async () => {
  ({ t, w, key } = await startWandbApp('alice'));
});
afterAll(() => t.close());

/** POSTs these exact bytes as JSON (supertest would serialise a Buffer as an object). */
async function postRaw(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const { port } = t.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: Buffer.from(body) });
  return { status: res.status, body: await res.json() };
}
const nameExists = async (name: string) => (await t.api.get(`${API}/experiments/get-by-name`).query({ experiment_name: name })).status === 200;

describe('MLflow JSON bodies', () => {
  it('refuses invalid UTF-8 instead of storing U+FFFD', async () => {
    const name = uniqueName('utf8');
    for (const bad of [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])]) {
      const body = Buffer.concat([Buffer.from(`{"name":"${name}`), bad, Buffer.from('"}')]);
      const res = await postRaw(`${API}/experiments/create`, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/not valid UTF-8/) });
    }
    expect(await nameExists(`${name}\ufffd`)).toBe(false);
  });

  it('refuses NUL characters and lone surrogates with a message naming the field', async () => {
    const name = uniqueName('nul');
    const cases: [string, string, RegExp][] = [
      [`${API}/experiments/create`, `{"name":"${name}\\u0000x"}`, /parameter 'name': it contains a NUL character/],
      [`${API}/experiments/create`, `{"name":"${name}\\ud800"}`, /parameter 'name': it contains an unpaired UTF-16 surrogate \(\\ud800\)/],
      [`${API}/experiments/create`, `{"name":"${name}\\udfff-x"}`, /unpaired UTF-16 surrogate/],
      [`${API}/experiments/create`, `{"name":"${name}","tags":[{"key":"k","value":"a\\u0000"}]}`, /parameter 'value': it contains a NUL character/],
      [`${API}/experiments/create`, `{"name":"${name}","x\\u0000y":1}`, /field name 'x\u0000y'/],
    ];
    for (const [path, body, message] of cases) {
      const res = await postRaw(path, body);
      expect([body, res.status, res.body.error_code]).toEqual([body, 400, 'INVALID_PARAMETER_VALUE']);
      expect(res.body.message).toMatch(message);
      expect(res.body.message).not.toMatch(/byte sequence|0x00|encoding "UTF8"/);
    }
    expect(await nameExists(`${name}\u0000x`)).toBe(false);
  });

  it('refuses a NUL in a query string parameter in the same words', async () => {
    const res = await t.api.get(`${API}/experiments/get-by-name?experiment_name=a%00b`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/parameter 'experiment_name': it contains a NUL character/) });
  });

  it('keeps valid text beyond ASCII, surrogate pairs included, byte for byte', async () => {
    const name = `${uniqueName('text')}-é-日本-😀`;
    const viaEscapes = JSON.stringify({ name }).replace('😀', '\\ud83d\\ude00');
    const res = await postRaw(`${API}/experiments/create`, viaEscapes);
    expect(res.status).toBe(200);
    const got = await t.api.get(`${API}/experiments/get`).query({ experiment_id: res.body.experiment_id });
    expect(got.body.experiment.name).toBe(name);
  });
});

describe('W&B bodies', () => {
  it('GraphQL: invalid UTF-8 and NUL in variables are 400s, and nothing is written', async () => {
    const run = `text0001${S}`;
    const project = uniqueName('wtext');
    const body = (displayName: string) => JSON.stringify({ query: UPSERT_BUCKET, variables: { name: run, project, entity: 'alice', displayName }, operationName: 'UpsertBucket' });
    const send = (b: Buffer) => postRaw('/graphql', b, { Authorization: basic(key) });
    const [before, after] = body('@@').split('@@');
    const invalid = Buffer.concat([Buffer.from(before), Buffer.from([0xff]), Buffer.from(after)]);
    const bad = await send(invalid);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/not valid UTF-8/);
    const nul = await send(Buffer.from(body('a\u0000b')));
    expect(nul.status).toBe(400);
    expect(nul.body.message).toMatch(/'variables.displayName': it contains a NUL character/);
    const runs = await t.api.get(`${API}/runs/get`).query({ run_id: run });
    expect(runs.status).toBe(404);
  });

  it('file_stream: a NUL in a history line is a 400; console output keeps its NULs as U+FFFD', async () => {
    const run = `text0002${S}`;
    const project = uniqueName('wtext');
    await w.upsert({ name: run, project });
    const history = await w.stream(project, run, { files: { 'wandb-history.jsonl': { offset: 0, content: [line(0, '"loss\\u0000":1')] } } });
    expect(history.status).toBe(400);
    expect(history.body.message).toMatch(/NUL character/);
    const output = await w.stream(project, run, { files: { 'output.log': { offset: 0, content: ['binary \u0000 noise'] } } });
    expect(output.status).toBe(200);
  });

  it('the REST run endpoint refuses a NUL in a config key', async () => {
    const res = await postRaw('/api/wandb/runs', `{"project":"${uniqueName('wtext')}","config":{"l\\u0000r":0.1}}`, { Authorization: `Bearer ${key}` });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/the key 'l\u0000r' in request body: it contains a NUL character/) });
  });
});
