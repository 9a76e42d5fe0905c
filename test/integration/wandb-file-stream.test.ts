import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { appendPendingKey, importPendingKeys, newApiKey, verifyApiKey } from '../../src/domain/wandb/api-keys.js';
import { uniqueName, type TestApp } from '../harness/app.js';
import {
  basic,
  CREATE_RUN_FILES,
  RUN_FILES,
  HISTORY_PAGE,
  line,
  RUN_EVENTS,
  RUN_FULL_HISTORY,
  RUN_HISTORY_KEYS,
  RUN_PARQUET_HISTORY,
  RUN_SAMPLED_HISTORY,
  RUN_STATE,
  runIdSuffix,
  SAMPLED_HISTORY_PAGE,
  startWandbApp,
  wrapConfig,
  type Client,
} from './wandb-helpers.js';

const S = runIdSuffix();
let t: TestApp;
let w: Client;
let key: string;
beforeAll(async () => {
  ({ t, w, key } = await startWandbApp('alice'));
});
afterAll(() => t.close());

const get = (p: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${p}`).query(query);
const metricHistory = async (runId: string, metric: string) => (await get('metrics/get-history', { run_id: runId, metric_key: metric })).body.metrics ?? [];
const mlflowRun = async (runId: string) => (await get('runs/get', { run_id: runId })).body.run;

async function newRun(name: string, config: Record<string, unknown> = {}) {
  const project = uniqueName('fs');
  await w.upsert({ name, project, config: wrapConfig(config) });
  return project;
}

const history = (offset: number, content: string[]) => ({ files: { 'wandb-history.jsonl': { offset, content } } });

describe('file_stream history', () => {
  it('turns history lines into metrics: _step is the step, _timestamp the time, nested keys dotted', async () => {
    const project = await newRun(`hist0001-${S}`);
    const res = await w.stream(project, `hist0001-${S}`, history(0, [line(0, '"loss":1.5,"train":{"acc":0.1,"deep":{"x":2}},"txt":"hi","flag":true'), line(1, '"loss":1.2')]));
    expect(res).toEqual({ status: 200, body: {} });
    expect(await metricHistory(`hist0001-${S}`, 'loss')).toEqual([
      { key: 'loss', value: 1.5, timestamp: 1_700_000_000_000, step: 0 },
      { key: 'loss', value: 1.2, timestamp: 1_700_000_001_000, step: 1 },
    ]);
    expect(await metricHistory(`hist0001-${S}`, 'train.acc')).toHaveLength(1);
    expect(await metricHistory(`hist0001-${S}`, 'train.deep.x')).toHaveLength(1);
    const keys = (await mlflowRun(`hist0001-${S}`)).data.metrics.map((m: { key: string }) => m.key).sort();
    expect(keys).toEqual(['loss', 'train.acc', 'train.deep.x']);
  });

  it('accepts NaN and ±Infinity in lines and keeps them as metric values', async () => {
    const project = await newRun(`nan00001-${S}`);
    const res = await w.stream(project, `nan00001-${S}`, history(0, [line(0, '"v":NaN'), line(1, '"v":Infinity'), line(2, '"v":-Infinity,"s":"NaN"')]));
    expect(res.status).toBe(200);
    expect((await metricHistory(`nan00001-${S}`, 'v')).map((m: { value: unknown }) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity']);
    const full = await w.gql(RUN_FULL_HISTORY, { project, entity: 'alice', name: `nan00001-${S}`, samples: 10 }, '');
    expect(full.body.data.project.run.history[0]).toContain('"v":NaN');
    expect(full.body.data.project.run.history[2]).toContain('"s":"NaN"');
  });

  it('is idempotent: a replayed or retried post changes nothing', async () => {
    const project = await newRun(`replay01-${S}`);
    const post = history(0, [line(0, '"a":1'), line(1, '"a":2'), line(2, '"a":3')]);
    for (let i = 0; i < 3; i++) expect((await w.stream(project, `replay01-${S}`, post)).status).toBe(200);
    // A retry that overlaps what was already stored, then moves on.
    expect((await w.stream(project, `replay01-${S}`, history(2, [line(2, '"a":3'), line(3, '"a":4')]))).status).toBe(200);
    // `wandb sync` again: the same lines, keys in another order (Go maps), plus the summary.
    const reordered = [0, 1, 2, 3].map((i) => `{"a":${i + 1},"_timestamp":${1_700_000_000 + i},"_step":${i},"_runtime":${i / 10}}`);
    expect((await w.stream(project, `replay01-${S}`, history(0, reordered))).status).toBe(200);
    expect((await metricHistory(`replay01-${S}`, 'a')).map((m: { step: number }) => m.step)).toEqual([0, 1, 2, 3]);
    const [counts] = await rows<{ n: number; lines: number }>(
      t.deps.db,
      sql`select (select count(*)::int from wandb_history where run_id = ${`replay01-${S}`}) as n, history_line_count as lines from wandb_runs where run_id = ${`replay01-${S}`}`,
    );
    expect(counts).toEqual({ n: 4, lines: 4 });
    const keys = await w.gql(RUN_HISTORY_KEYS, { project, entity: 'alice', name: `replay01-${S}` }, '');
    expect(keys.body.data.project.run.historyKeys.lastStep).toBe(3);
    expect(keys.body.data.project.run.historyKeys.keys.a).toEqual({ typeCounts: [{ type: 'number', count: 4 }] });
  });

  it('uses the line number as the step when a line has no _step (shared mode)', async () => {
    const project = await newRun(`nostep01-${S}`);
    await w.stream(project, `nostep01-${S}`, history(5, ['{"m":1,"_timestamp":1700000000}', '{"m":2}']));
    expect((await metricHistory(`nostep01-${S}`, 'm')).map((m: { step: number }) => m.step)).toEqual([5, 6]);
  });

  it('skips keys MLflow refuses as metric names but keeps them in the history', async () => {
    const project = await newRun(`badkey01-${S}`);
    await w.stream(project, `badkey01-${S}`, history(0, [line(0, '"acc@1":0.5,"ok":1')]));
    expect((await mlflowRun(`badkey01-${S}`)).data.metrics.map((m: { key: string }) => m.key)).toEqual(['ok']);
    const full = await w.gql(RUN_FULL_HISTORY, { project, entity: 'alice', name: `badkey01-${S}`, samples: 10 }, '');
    expect(JSON.parse(full.body.data.project.run.history[0])['acc@1']).toBe(0.5);
  });
});

describe('file_stream summary, events, console and finish', () => {
  it('replaces the summary and mirrors its numeric keys the history does not have', async () => {
    const project = await newRun(`summ0001-${S}`);
    await w.stream(project, `summ0001-${S}`, {
      files: {
        'wandb-history.jsonl': { offset: 0, content: [line(0, '"loss":0.5')] },
        'wandb-summary.json': { offset: 0, content: ['{"loss":0.5,"_step":0,"_timestamp":1700000000,"best":0.9,"deep":{"x":1},"name":"n"}'] },
      },
    });
    await w.stream(project, `summ0001-${S}`, { files: { 'wandb-summary.json': { offset: 0, content: ['{"loss":0.5,"_step":0,"best":0.95,"img":{"_type":"image-file","path":"media/a.png"}}'] } } });
    // Another key changes, `best` does not: its point is already there.
    const again = await w.stream(project, `summ0001-${S}`, { files: { 'wandb-summary.json': { offset: 0, content: ['{"loss":0.5,"_step":0,"best":0.95,"img":{"_type":"image-file","path":"media/a.png"},"x":"y"}'] } } });
    expect(again.status).toBe(200);
    await w.stream(project, `summ0001-${S}`, { files: { 'wandb-summary.json': { offset: 0, content: ['{"loss":0.5,"_step":0,"best":0.95,"img":{"_type":"image-file","path":"media/a.png"}}'] } } });
    const [row] = await rows<{ summary: string }>(t.deps.db, sql`select summary from wandb_runs where run_id = ${`summ0001-${S}`}`);
    expect(JSON.parse(row.summary)).toEqual({ loss: 0.5, _step: 0, best: 0.95, img: { _type: 'image-file', path: 'media/a.png' } });
    expect((await metricHistory(`summ0001-${S}`, 'best')).map((m: { value: number }) => m.value)).toEqual([0.9, 0.95]);
    expect(await metricHistory(`summ0001-${S}`, 'deep.x')).toHaveLength(1);
    expect(await metricHistory(`summ0001-${S}`, 'loss')).toHaveLength(1);
  });

  it('stores system metrics as system/… metrics and serves them as the events stream', async () => {
    const project = await newRun(`event001-${S}`);
    await w.stream(project, `event001-${S}`, {
      files: { 'wandb-events.jsonl': { offset: 0, content: ['{"system.cpu":12.5,"system.memory_percent":40,"_wandb":true,"_timestamp":1700000000,"_runtime":1}'] } },
    });
    expect(await metricHistory(`event001-${S}`, 'system/cpu')).toEqual([{ key: 'system/cpu', value: 12.5, timestamp: 1_700_000_000_000, step: 0 }]);
    const events = await w.gql(RUN_EVENTS, { project, entity: 'alice', name: `event001-${S}`, samples: 10 }, '');
    expect(JSON.parse(events.body.data.project.run.events[0])['system.cpu']).toBe(12.5);
  });

  it('overwrites console lines in place and counts them', async () => {
    const project = await newRun(`output01-${S}`);
    await w.stream(project, `output01-${S}`, { files: { 'output.log': { offset: 0, content: ['a', 'b 10%', 'c'] } } });
    await w.stream(project, `output01-${S}`, { files: { 'output.log': { offset: 1, content: ['b 100%', 'nul \u0000 byte'] } } });
    const lines = await rows<{ line_no: number; content: string }>(
      t.deps.db,
      sql`select line_no, content from wandb_lines where run_id = ${`output01-${S}`} and stream = 'output' order by line_no`,
    );
    expect(lines.map((l) => l.content)).toEqual(['a', 'b 100%', 'nul \ufffd byte']);
  });

  it('finishes the run on complete: exit 0 → FINISHED, else FAILED, with the client’s end time', async () => {
    for (const [name, code, status, state] of [
      [`done0001-${S}`, 0, 'FINISHED', 'finished'],
      [`fail0001-${S}`, 1, 'FAILED', 'failed'],
    ] as const) {
      const project = await newRun(name);
      await w.stream(project, name, {
        files: { 'wandb-history.jsonl': { offset: 0, content: [line(0, '"x":1'), line(30, '"x":2')] } },
      });
      await w.stream(project, name, { files: {}, uploaded: ['output.log'], complete: true, exitcode: code });
      await w.stream(project, name, { complete: true, exitcode: code }); // a replay
      const run = await mlflowRun(name);
      expect(run.info.status).toBe(status);
      expect(run.info.start_time).toBe(1_700_000_000_000);
      expect(run.info.end_time).toBe(1_700_000_030_000);
      const st = await w.gql(RUN_STATE, { project, entity: 'alice', run: name });
      expect(st.body.data.project.run.state).toBe(state);
    }
  });

  it('takes the runtime of a summary that arrives after the completing post as the end', async () => {
    const name = `late0001-${S}`;
    const project = await newRun(name);
    await w.stream(project, name, { files: { 'wandb-history.jsonl': { offset: 0, content: [line(0, '"x":1'), line(30, '"x":2')] } } });
    await w.stream(project, name, { complete: true, exitcode: 0 });
    expect((await mlflowRun(name)).info.end_time).toBe(1_700_000_030_000);
    await w.stream(project, name, { files: { 'wandb-summary.json': { offset: 0, content: ['{"x":2,"_wandb":{"runtime":45}}'] } } });
    const run = await mlflowRun(name);
    expect(run.info.end_time).toBe(1_700_000_045_000);
    expect(run.info.status).toBe('FINISHED');
  });

  it('answers a heartbeat ({}) with {}', async () => {
    const project = await newRun(`beat0001-${S}`);
    expect(await w.stream(project, `beat0001-${S}`, {})).toEqual({ status: 200, body: {} });
    expect(await w.stream(project, `beat0001-${S}`, '')).toEqual({ status: 200, body: {} });
  });

  it('accepts a gzip-encoded post', async () => {
    const project = await newRun(`gzip0001-${S}`);
    const res = await t.api
      .post(`/files/alice/${project}/gzip0001-${S}/file_stream`)
      .set('Authorization', basic(key))
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((b: unknown) => b as string)
      .send(gzipSync(JSON.stringify(history(0, [line(0, '"z":1')]))));
    expect(res.status).toBe(200);
    expect(await metricHistory(`gzip0001-${S}`, 'z')).toHaveLength(1);
  });
});

describe('file_stream bad input', () => {
  it('answers malformed posts with 4xx and writes nothing, never 5xx', async () => {
    const project = await newRun(`bad00001-${S}`);
    const deep = '{"a":'.repeat(100) + '1' + '}'.repeat(100);
    const bodies: unknown[] = [
      'not json',
      '[1,2]',
      '"string"',
      { files: 'x' },
      { files: { 'wandb-history.jsonl': { offset: -1, content: [] } } },
      { files: { 'wandb-history.jsonl': { offset: 1.5, content: [] } } },
      { files: { 'wandb-history.jsonl': { offset: 2 ** 31, content: ['{}'] } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: 'x' } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: [1] } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: ['{"a":1}', 'not json'] } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: ['[1]'] } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: [deep] } } },
      { files: { 'wandb-summary.json': { offset: 0, content: ['{"a":'] } } },
      { files: { 'wandb-history.jsonl': { offset: 0, content: ['{"a":"\u0000"}'] } } },
      { complete: 'yes' },
      { complete: true, exitcode: 'one' },
    ];
    for (const body of bodies) {
      const res = await w.stream(project, `bad00001-${S}`, body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
    }
    expect((await mlflowRun(`bad00001-${S}`)).data.metrics).toBeUndefined();
    expect((await mlflowRun(`bad00001-${S}`)).info.status).toBe('RUNNING');
  });

  it('answers 404 for a run or project that does not exist', async () => {
    const project = await newRun(`there001-${S}`);
    expect((await w.stream(project, `notthere-${S}`, history(0, [line(0, '"a":1')]))).status).toBe(404);
    expect((await w.stream(uniqueName('nope'), `there001-${S}`, history(0, [line(0, '"a":1')]))).status).toBe(404);
  });

  it('refuses an oversized post with 400', async () => {
    const project = await newRun(`big00001-${S}`);
    const big = 'x'.repeat(33 * 1024 * 1024);
    const res = await w.stream(project, `big00001-${S}`, JSON.stringify({ files: { 'output.log': { offset: 0, content: [big] } } }));
    expect(res.status).toBe(400);
  });
});

describe('W&B history reads', () => {
  let project: string;
  beforeAll(async () => {
    project = await newRun(`read0001-${S}`);
    const lines = Array.from({ length: 1000 }, (_, i) => line(i, `"loss":${1 / (i + 1)},"acc":{"top1":${i / 1000}}${i % 2 ? ',"odd":1' : ''}`));
    await w.stream(project, `read0001-${S}`, history(0, lines));
  });
  const vars = (extra: Record<string, unknown>) => ({ project, entity: 'alice', name: `read0001-${S}`, ...extra });

  it('samples the full history evenly, first and last included, flattened', async () => {
    const res = await w.gql(RUN_FULL_HISTORY, vars({ samples: 500 }), '');
    const rowsOut = res.body.data.project.run.history.map((s: string) => JSON.parse(s));
    expect(rowsOut).toHaveLength(500);
    expect(rowsOut[0]._step).toBe(0);
    expect(rowsOut[499]._step).toBe(999);
    expect(rowsOut[0]['acc.top1']).toBe(0);
    const all = await w.gql(RUN_FULL_HISTORY, vars({ samples: 5000 }), '');
    expect(all.body.data.project.run.history).toHaveLength(1000);
  });

  it('serves HistoryPage by step range (max exclusive) and parquet-less scans', async () => {
    const page = await w.gql(HISTORY_PAGE, { project, entity: 'alice', run: `read0001-${S}`, minStep: 100, maxStep: 200, pageSize: 100 });
    const steps = page.body.data.project.run.history.map((s: string) => JSON.parse(s)._step);
    expect(steps).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    const parquet = await w.gql(RUN_PARQUET_HISTORY, { project, entity: 'alice', runName: `read0001-${S}`, liveKeys: ['_step'] });
    expect(parquet.body.data.project.run.parquetHistory).toEqual({ parquetUrls: [], liveData: [] });
  });

  it('limits how many histories one request may read', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `h${i}: history(samples: 1)`).join(' ');
    const doc = (n: number) => `query Many($project: String!, $entity: String!, $name: String!) { project(name: $project, entityName: $entity) { run(name: $name) { ${fields(n)} } } }`;
    expect((await w.gql(doc(20), vars({}))).body.errors).toBeUndefined();
    const res = await w.gql(doc(21), vars({}));
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/at most 20 histories/);
  });

  it('samples rows that have every requested key, reduced to those keys', async () => {
    const res = await w.gql(RUN_SAMPLED_HISTORY, vars({ specs: [JSON.stringify({ keys: ['_step', 'odd', 'acc.top1'], samples: 10 })] }), '');
    const [sampled] = res.body.data.project.run.sampledHistory;
    expect(sampled).toHaveLength(10);
    expect(sampled.every((r: { _step: number }) => r._step % 2 === 1)).toBe(true);
    expect(Object.keys(sampled[0]).sort()).toEqual(['_step', 'acc.top1', 'odd']);
    const page = await w.gql(SAMPLED_HISTORY_PAGE, {
      project,
      entity: 'alice',
      run: `read0001-${S}`,
      spec: JSON.stringify({ keys: ['loss', '_step'], minStep: 10, maxStep: 19, samples: 10 }),
    });
    expect(page.body.data.project.run.sampledHistory[0].map((r: { _step: number }) => r._step)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });
});

describe('run files', () => {
  it('hands out credential-free upload URLs that write run artifacts', async () => {
    const project = await newRun(`files001-${S}`);
    const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project, run: `files001-${S}`, files: ['saved.txt', 'media/images/a.png', '../escape', 'output.log'] });
    expect(res.body.errors).toBeUndefined();
    const files = res.body.data.createRunFiles.files as { name: string; uploadUrl: string | null }[];
    expect(files.map((f) => f.name)).toEqual(['saved.txt', 'media/images/a.png', '../escape', 'output.log']);
    expect(files[2].uploadUrl).toBeNull();
    expect(res.body.data.createRunFiles.uploadHeaders).toEqual([]);
    for (const [i, body] of [
      [0, 'hi there\n'],
      [1, 'PNG'],
      [3, 'line 1\nline 2\n'],
    ] as const) {
      const url = new URL(files[i].uploadUrl!);
      expect(url.host).toBe(`127.0.0.1:${(t.server.address() as { port: number }).port}`);
      expect((await t.api.put(url.pathname).send(body)).status).toBe(200);
    }
    const list = await get('artifacts/list', { run_id: `files001-${S}` });
    expect(list.body.files.map((f: { path: string }) => f.path).sort()).toEqual(['media', 'output.log', 'saved.txt']);
    const download = await t.api.get('/api/2.0/mlflow-artifacts/artifacts/' + (await mlflowRun(`files001-${S}`)).info.artifact_uri.replace('mlflow-artifacts:/', '') + '/saved.txt');
    expect(download.text ?? download.body.toString()).toBe('hi there\n');
  });

  it('refuses a forged or altered upload URL with 403', async () => {
    const project = await newRun(`files002-${S}`);
    const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project, run: `files002-${S}`, files: ['a.txt'] });
    const url = new URL(res.body.data.createRunFiles.files[0].uploadUrl);
    const [payload, mac] = url.pathname.split('/').pop()!.split('.');
    const forged = Buffer.from(JSON.stringify({ r: `files002-${S}`, p: 'evil.txt', e: Date.now() + 1e6 })).toString('base64url');
    for (const p of [`/wandb-upload/${forged}.${mac}`, `/wandb-upload/${payload}.${mac.slice(0, -2)}AA`, '/wandb-upload/garbage', `/wandb-upload/${payload}`]) {
      expect((await t.api.put(p).send('x')).status, p).toBe(403);
    }
  });

  it('lists uploaded files with size, md5, mimetype and a download URL, by page, name and pattern', async () => {
    const run = `files003-${S}`;
    const project = await newRun(run);
    const names = ['a.txt', 'b.json', 'media/images/c.png'];
    const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project, run, files: names });
    const bodies = ['first\n', '{"k": 1}', 'PNGDATA'];
    for (const [i, f] of (res.body.data.createRunFiles.files as { uploadUrl: string }[]).entries()) {
      expect((await t.api.put(new URL(f.uploadUrl).pathname).send(bodies[i])).status).toBe(200);
    }
    const vars = { entity: 'alice', project, name: run };
    const all = await w.gql(RUN_FILES, vars);
    expect(all.body.errors).toBeUndefined();
    const r = all.body.data.project.run;
    expect(r.fileCount).toBe(3);
    const nodes = r.files.edges.map((e: { node: any }) => e.node);
    expect(nodes.map((n: { name: string }) => n.name)).toEqual(names);
    expect(nodes[0]).toMatchObject({ sizeBytes: 6, mimetype: 'text/plain', md5: createHash('md5').update('first\n').digest('base64') });
    expect(nodes[2].mimetype).toBe('image/png');
    const download = await t.api.get(new URL(nodes[1].url).pathname).buffer(true);
    expect(download.status).toBe(200);
    expect(Buffer.from(download.body).toString()).toBe('{"k": 1}');

    const page1 = await w.gql(RUN_FILES, { ...vars, fileLimit: 2 });
    expect(page1.body.data.project.run.files.pageInfo).toEqual({ endCursor: 'b.json', hasNextPage: true });
    const page2 = await w.gql(RUN_FILES, { ...vars, fileLimit: 2, fileCursor: 'b.json' });
    expect(page2.body.data.project.run.files.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['media/images/c.png']);
    expect(page2.body.data.project.run.files.pageInfo.hasNextPage).toBe(false);
    const byName = await w.gql(RUN_FILES, { ...vars, fileNames: ['b.json', 'missing'] });
    expect(byName.body.data.project.run.files.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['b.json']);
    const byPattern = await w.gql(RUN_FILES, { ...vars, pattern: '%.png' });
    expect(byPattern.body.data.project.run.files.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['media/images/c.png']);
  });

  it('refuses a download URL used for upload, an upload URL used for download, and a forged one', async () => {
    const run = `files004-${S}`;
    const project = await newRun(run);
    const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project, run, files: ['x.txt'] });
    const upload = new URL(res.body.data.createRunFiles.files[0].uploadUrl).pathname;
    expect((await t.api.put(upload).send('x')).status).toBe(200);
    const list = await w.gql(RUN_FILES, { entity: 'alice', project, name: run });
    const download = new URL(list.body.data.project.run.files.edges[0].node.url).pathname;
    const token = download.split('/').pop()!;
    expect((await t.api.put(`/wandb-upload/${token}`).send('overwrite')).status).toBe(403);
    expect((await t.api.get(`/wandb-download/${upload.split('/').pop()}`)).status).toBe(403);
    expect((await t.api.get(`/wandb-download/${token.slice(0, -3)}AAA`)).status).toBe(403);
    expect((await t.api.get(download)).status).toBe(200);
  });

  it('CreateRunFiles for an unknown run is a GraphQL error, not a null payload', async () => {
    const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project: uniqueName('none'), run: 'x', files: ['a'] });
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/not found/);
  });
});

describe('REST run endpoint', () => {
  const auth = () => ({ Authorization: `Bearer ${key}` });

  it('creates a run with config/tags/group, appends history, sets the summary and finishes it', async () => {
    const project = uniqueName('rest');
    const created = await t.api
      .post('/api/wandb/runs')
      .set(auth())
      .send({ project, id: `rest0001-${S}`, name: 'scripted', config: { lr: 0.1, opt: { name: 'adam' } }, tags: ['t'], group: 'g', job_type: 'eval', notes: 'n' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: `rest0001-${S}`, run_id: `rest0001-${S}`, project, entity: 'alice', state: 'running', config: { lr: 0.1, opt: { name: 'adam' } } });
    const base = `/api/wandb/runs/alice/${project}/rest0001-${S}`;
    const appended = await t.api
      .post(`${base}/history`)
      .set(auth())
      .set('Content-Type', 'application/json')
      .send('{"rows":[{"loss":1,"_timestamp":1700000000},{"loss":NaN,"m":{"x":2}}]}');
    expect(appended.status).toBe(200);
    expect(appended.body.history_line_count).toBe(2);
    const retried = await t.api.post(`${base}/history`).set(auth()).send({ rows: [{ loss: 1, _timestamp: 1700000000, _step: 0 }], offset: 0 });
    expect(retried.body.history_line_count).toBe(2);
    await t.api.post(`${base}/history`).set(auth()).send({ rows: [{ loss: 0.5 }] });
    expect((await metricHistory(`rest0001-${S}`, 'loss')).map((m: { step: number; value: unknown }) => [m.step, m.value])).toEqual([
      [0, 1],
      [1, 'NaN'],
      [2, 0.5],
    ]);
    const summary = await t.api.post(`${base}/summary`).set(auth()).send({ summary: { best: 0.9 } });
    expect(summary.body.summary).toEqual({ best: 0.9 });
    const finished = await t.api.post(`${base}/finish`).set(auth()).send({});
    expect(finished.body.state).toBe('finished');
    const run = await mlflowRun(`rest0001-${S}`);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.run_name).toBe('scripted');
    expect(Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]))).toEqual({ lr: '0.1', 'opt.name': 'adam' });
    expect((await t.api.get(base).set(auth())).body.state).toBe('finished');
  });

  it('answers bad input with 400 and unknown runs with 404', async () => {
    const project = uniqueName('rest');
    expect((await t.api.post('/api/wandb/runs').set(auth()).send({})).status).toBe(400);
    expect((await t.api.post('/api/wandb/runs').set(auth()).send({ project: 'a/b' })).status).toBe(400);
    await t.api.post('/api/wandb/runs').set(auth()).send({ project, id: `rest0002-${S}` });
    const base = `/api/wandb/runs/alice/${project}/rest0002-${S}`;
    expect((await t.api.post(`${base}/history`).set(auth()).send({ rows: [] })).status).toBe(400);
    expect((await t.api.post(`${base}/history`).set(auth()).send({ rows: [{ _step: -1 }] })).status).toBe(400);
    expect((await t.api.post(`${base}/finish`).set(auth()).send({ exit_code: 'x' })).status).toBe(400);
    expect((await t.api.post(`/api/wandb/runs/alice/${project}/nope/finish`).set(auth()).send({})).status).toBe(404);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await t.api.get('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/wandb/runs', '/api/wandb/runs/{entity}/{project}/{run}/history']));
  });
});

describe('API keys created beside an embedded database', () => {
  it('are imported by the server the first time they are used', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-keys-'));
    const file = path.join(dir, 'db.wandb-keys');
    const created = newApiKey('bob', Date.now());
    appendPendingKey(file, created);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain(created.key);
    expect(await verifyApiKey(t.deps.db, created.key, Date.now())).toBeNull();
    const later = Date.now() + 60_000; // past the negative cache
    expect(await verifyApiKey(t.deps.db, created.key, later, file)).toMatchObject({ name: 'bob' });
    expect(fs.existsSync(file)).toBe(false);
    expect(await importPendingKeys(t.deps.db, file)).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
