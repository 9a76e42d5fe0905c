import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { CREATE_RUN_FILES, line, runIdSuffix, startWandbApp, wrapConfig, type Client } from './wandb-helpers.js';

// The run page's console, media, files and W&B deep links, for runs logged through the W&B wire
// protocol as wandb==0.31.0 sends it (history lines and console lines below are that client's,
// captured from a run with wandb.Image, wandb.Table, wandb.Histogram, wandb.plot.confusion_matrix
// and print) and through the MLflow API.

const S = runIdSuffix();
let t: TestApp;
let w: Client;
beforeAll(async () => {
  ({ t, w } = await startWandbApp('alice'));
});
afterAll(() => t.close());

const uiGet = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/cairn/ui/${path}`).query(query);
const output = async (runId: string, offset?: number) => (await uiGet('runs/output', offset === undefined ? { run_id: runId } : { run_id: runId, offset })).body;

async function wandbRun(name: string, config: Record<string, unknown> = {}) {
  const project = uniqueName('ui-page');
  await w.upsert({ name, project, config: wrapConfig(config), groupName: 'g1', jobType: 'train' });
  return project;
}

async function uploadFiles(project: string, run: string, files: Record<string, string | Buffer>) {
  const res = await w.gql(CREATE_RUN_FILES, { entity: 'alice', project, run, files: Object.keys(files) });
  const urls = res.body.data.createRunFiles.files as { name: string; uploadUrl: string }[];
  for (const f of urls) expect((await t.api.put(new URL(f.uploadUrl).pathname).send(files[f.name])).status).toBe(200);
}

describe('GET /cairn/ui/runs/output', () => {
  it("tails a W&B run's console lines by byte offset, without the client's timestamp prefixes", async () => {
    const run = `out00001-${S}`;
    const project = await wandbRun(run);
    const console1 = ['2026-11-30T11:25:10.242624 hello from print', '2026-11-30T11:25:10.249017 step 0 ✓ loss 1.0'];
    await w.stream(project, run, { files: { 'output.log': { offset: 0, content: console1 } } });
    const first = await output(run);
    const text1 = 'hello from print\nstep 0 ✓ loss 1.0\n';
    expect(first).toEqual({ text: text1, next_offset: Buffer.byteLength(text1), complete: false });
    // Nothing new yet: the same offset comes back.
    expect(await output(run, first.next_offset)).toEqual({ text: '', next_offset: first.next_offset, complete: false });
    await w.stream(project, run, { files: { 'output.log': { offset: 2, content: ['ERROR 2026-11-30T11:25:10.831657 done'] } } });
    const second = await output(run, first.next_offset);
    expect(second).toEqual({ text: 'done\n', next_offset: first.next_offset + 5, complete: false });
    // From the middle of a line, and the end once the run has finished.
    expect((await output(run, 6)).text).toBe('from print\nstep 0 ✓ loss 1.0\ndone\n');
    await w.stream(project, run, { files: {}, complete: true, exitcode: 0 });
    expect(await output(run, second.next_offset)).toEqual({ text: '', next_offset: second.next_offset, complete: true });
    expect((await output(run, 0)).complete).toBe(true);
  });

  it('serves large output in chunks of at most 1 MiB that end on line breaks and add up to the whole', async () => {
    const run = `out00002-${S}`;
    const project = await wandbRun(run);
    const lines = Array.from({ length: 3000 }, (_, i) => `2026-11-30T11:25:10.000000 line ${i} ${'é'.repeat(300)}`);
    for (let i = 0; i < lines.length; i += 500) await w.stream(project, run, { files: { 'output.log': { offset: i, content: lines.slice(i, i + 500) } } });
    const whole = lines.map((l) => `${l.slice(27)}\n`).join('');
    let offset = 0;
    let text = '';
    for (let i = 0; i < 10; i++) {
      const chunk = await output(run, offset);
      if (!chunk.text) break;
      expect(Buffer.byteLength(chunk.text)).toBeLessThanOrEqual(1024 * 1024);
      expect(chunk.text.endsWith('\n')).toBe(true);
      text += chunk.text;
      offset = chunk.next_offset;
    }
    expect(offset).toBe(Buffer.byteLength(whole));
    expect(text).toBe(whole);
  });

  it("reads an MLflow run's output.log artifact, and answers empty for a run without output", async () => {
    const experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('ui-out') })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: experimentId })).body.run.info;
    expect(await output(run.run_id)).toEqual({ text: '', next_offset: 0, complete: false });
    const key = run.artifact_uri.replace('mlflow-artifacts:/', '');
    expect((await t.api.put(`/api/2.0/mlflow-artifacts/artifacts/${key}/output.log`).send('epoch 1\nepoch 2\n')).status).toBe(200);
    expect(await output(run.run_id)).toEqual({ text: 'epoch 1\nepoch 2\n', next_offset: 16, complete: false });
    expect(await output(run.run_id, 8)).toEqual({ text: 'epoch 2\n', next_offset: 16, complete: false });
    await t.api.post('/api/2.0/mlflow/runs/update').send({ run_id: run.run_id, status: 'FINISHED' });
    expect(await output(run.run_id, 16)).toEqual({ text: '', next_offset: 16, complete: true });
  });

  it('refuses bad input and 404s an unknown run', async () => {
    for (const q of [{}, { run_id: 'x', offset: -1 }, { run_id: 'x', offset: 'abc' }, { run_id: '../x' }]) {
      const res = await uiGet('runs/output', q);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const res = await uiGet('runs/output', { run_id: `nosuchrun-${S}` });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

const IMG0 = '{"size":1236,"path":"media/images/img_0_15b535779ceff637724f.png","format":"png","width":24,"height":16,"caption":"img 0","_type":"image-file","sha256":"15b535779ceff637724fcce7dd531b281e65a6117d138220d4aed846671b11e8"}';
const IMGS0 = '{"captions":["m0","m1"],"_type":"images/separated","width":8,"height":8,"format":"png","count":2,"filenames":["media/images/imgs_0_add4ac76e5ead2b6dd29.png","media/images/imgs_0_b9bd67bc1f90f61dabd0.png"]}';
const TBL0 = '{"_type":"table-file","log_mode":"IMMUTABLE","ncols":2,"path":"media/table/tbl_0_328d4e4e1ecbd9473cdc.table.json","nrows":2,"sha256":"328d4e4e1ecbd9473cdcead26c95d469fcfccfb3c0338fc08e689f11368a08ad","size":46}';
const HIST0 = '{"_type":"histogram","values":[2,1,0,3],"bins":[-2.3,-1.1,0.1,1.3,2.5]}';
const CM = '{"_type":"table-file","path":"media/table/cm_table_1_7e78f6e62661b63d40c0.table.json","log_mode":"IMMUTABLE","size":130,"nrows":4,"ncols":3}';
const CM_CONFIG = {
  lr: 0.1,
  _wandb: {
    cli_version: '0.31.0',
    visualize: {
      cm: {
        panel_type: 'Vega2',
        panel_config: {
          userQuery: { queryFields: [{ name: 'runSets', args: [{ name: 'runSets', value: '${runSets}' }], fields: [{ name: 'id', fields: [] }, { name: 'summaryTable', args: [{ name: 'tableKey', value: 'cm_table' }], fields: [] }] }] },
          panelDefId: 'wandb/confusion_matrix/v1',
          fieldSettings: { Actual: 'Actual', Predicted: 'Predicted', nPredictions: 'nPredictions' },
          stringSettings: { title: 'Confusion Matrix Curve' },
        },
      },
    },
  },
};

describe('GET /cairn/ui/runs/media and /cairn/ui/runs/file', () => {
  let run: string;
  beforeAll(async () => {
    run = `media001-${S}`;
    const project = await wandbRun(run, CM_CONFIG);
    const res = await w.stream(project, run, {
      files: {
        'wandb-history.jsonl': {
          offset: 0,
          content: [
            line(0, `"img":${IMG0},"imgs":${IMGS0},"tbl":${TBL0},"hist":${HIST0},"loss":1,"nested":{"acc":0,"pic":${IMG0.replace('img 0', 'nested')}}`),
            line(1, `"cm_table":${CM},"loss":0.5`),
            line(2, '"loss":0.25'),
          ],
        },
      },
    });
    expect(res.status).toBe(200);
    await uploadFiles(project, run, {
      'media/images/img_0_15b535779ceff637724f.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      'media/table/tbl_0_328d4e4e1ecbd9473cdc.table.json': '{"columns":["a","b"],"data":[[0,"x"],[1,"y"]]}',
      'media/table/cm_table_1_7e78f6e62661b63d40c0.table.json':
        '{"columns":["Actual","Predicted","nPredictions"],"data":[["cat","cat",2.0],["cat","dog",0.0],["dog","cat",1.0],["dog","dog",1.0]]}',
      'report.html': '<script>alert(1)</script>',
    });
  });

  it('lists images, image groups, tables (with their rows), histograms and confusion matrices by step', async () => {
    const res = await uiGet('runs/media', { run_id: run });
    expect(res.status).toBe(200);
    expect(res.body.truncated).toBe(false);
    const items = res.body.items as Record<string, unknown>[];
    const byKey = Object.fromEntries(items.map((i) => [i.key, i]));
    expect(items.map((i) => [i.key, i.step, i.type]).sort()).toEqual(
      [['cm', 1, 'confusion_matrix'], ['hist', 0, 'histogram'], ['img', 0, 'image'], ['imgs', 0, 'images'], ['nested.pic', 0, 'image'], ['tbl', 0, 'table']].sort(),
    );
    expect(byKey.img).toEqual({
      key: 'img', step: 0, type: 'image', caption: 'img 0', file_path: 'media/images/img_0_15b535779ceff637724f.png', width: 24, height: 16,
      value: JSON.parse(IMG0),
    });
    expect(byKey.imgs).toMatchObject({ width: 8, height: 8, value: { filenames: JSON.parse(IMGS0).filenames, captions: ['m0', 'm1'] } });
    expect(byKey.hist).toMatchObject({ value: { bins: [-2.3, -1.1, 0.1, 1.3, 2.5], values: [2, 1, 0, 3] } });
    expect(byKey.tbl).toMatchObject({ file_path: 'media/table/tbl_0_328d4e4e1ecbd9473cdc.table.json', value: { columns: ['a', 'b'], data: [[0, 'x'], [1, 'y']], nrows: 2 } });
    expect(byKey.cm).toMatchObject({
      type: 'confusion_matrix', table_key: 'cm_table', chart: 'wandb/confusion_matrix/v1', caption: 'Confusion Matrix Curve',
      value: { columns: ['Actual', 'Predicted', 'nPredictions'], data: [['cat', 'cat', 2], ['cat', 'dog', 0], ['dog', 'cat', 1], ['dog', 'dog', 1]] },
    });
    const one = await uiGet('runs/media', { run_id: run, key: 'hist' });
    expect(one.body.items.map((i: { key: string }) => i.key)).toEqual(['hist']);
  });

  it('answers no media for a run without any, and 404 for an unknown run', async () => {
    const plain = `media002-${S}`;
    const project = await wandbRun(plain);
    await w.stream(project, plain, { files: { 'wandb-history.jsonl': { offset: 0, content: [line(0, '"loss":1')] } } });
    expect((await uiGet('runs/media', { run_id: plain })).body).toEqual({ items: [], truncated: false });
    expect((await uiGet('runs/media', { run_id: `nosuchrun-${S}` })).status).toBe(404);
    expect((await uiGet('runs/media', {})).status).toBe(400);
  });

  it('streams media files with their type; anything a browser could run is an attachment under a sandbox', async () => {
    const img = await uiGet('runs/file', { run_id: run, path: 'media/images/img_0_15b535779ceff637724f.png' }).buffer(true);
    expect(img.status).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.headers['x-content-type-options']).toBe('nosniff');
    expect(img.headers['content-disposition']).toBe('inline');
    expect(Buffer.from(img.body as Buffer)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const table = await uiGet('runs/file', { run_id: run, path: 'media/table/tbl_0_328d4e4e1ecbd9473cdc.table.json' });
    expect(table.headers['content-type']).toMatch(/^application\/json/);
    expect(table.body).toEqual({ columns: ['a', 'b'], data: [[0, 'x'], [1, 'y']] });
    const html = await uiGet('runs/file', { run_id: run, path: 'report.html' });
    expect(html.headers['content-disposition']).toMatch(/^attachment/);
    expect(html.headers['content-security-policy']).toContain('sandbox');
    for (const path of ['../../../etc/passwd', '/etc/passwd', 'a/../../b']) {
      const res = await uiGet('runs/file', { run_id: run, path });
      expect(res.status, path).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await uiGet('runs/file', { run_id: run, path: 'media/missing.png' })).status).toBe(404);
    expect((await uiGet('runs/file', { run_id: `nosuchrun-${S}`, path: 'a.png' })).status).toBe(404);
    expect((await uiGet('runs/file', { run_id: run })).status).toBe(400);
  });
});

describe('system metrics of a W&B run', () => {
  it('are the metrics system/<name>, charted against time by metrics/series', async () => {
    const run = `sysmet01-${S}`;
    const project = await wandbRun(run);
    const events = [0, 1, 2].map((i) => `{"system.cpu":${10 * (i + 1)},"system.memory_percent":${50 + i},"_wandb":true,"_runtime":${i * 15},"_timestamp":${1_700_000_000 + i * 15}}`);
    expect((await w.stream(project, run, { files: { 'wandb-events.jsonl': { offset: 0, content: events } } })).status).toBe(200);
    const columns = await uiGet('experiments/columns', { experiment_ids: (await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: run })).body.run.info.experiment_id });
    expect(columns.body.metrics).toEqual(['system/cpu', 'system/memory_percent']);
    const res = await t.api.post('/ajax-api/2.0/cairn/ui/metrics/series').send({ run_ids: [run], keys: ['system/cpu'], x_axis: 'timestamp' });
    expect(res.status).toBe(200);
    expect(res.body.series[0].points.map((p: { x: number; value: number }) => [p.x, p.value])).toEqual([
      [1_700_000_000_000, 10], [1_700_000_015_000, 20], [1_700_000_030_000, 30],
    ]);
  });
});

describe('GET /cairn/ui/wandb/resolve', () => {
  it('maps /<entity>/<project>[/runs/<id>] to the experiment and run', async () => {
    const run = `resolve1-${S}`;
    const project = await wandbRun(run);
    const experimentId = (await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: project })).body.experiment.experiment_id;
    expect((await uiGet('wandb/resolve', { entity: 'alice', project })).body).toEqual({ experiment_id: experimentId });
    expect((await uiGet('wandb/resolve', { entity: 'alice', project, run })).body).toEqual({ experiment_id: experimentId, run_id: run });
    const missingRun = await uiGet('wandb/resolve', { entity: 'alice', project, run: 'nosuchrun' });
    expect(missingRun.status).toBe(404);
    expect(missingRun.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await uiGet('wandb/resolve', { entity: 'alice', project: uniqueName('nosuchproject') })).status).toBe(404);
    expect((await uiGet('wandb/resolve', { project })).status).toBe(400);
    expect((await uiGet('wandb/resolve', { entity: 'alice' })).status).toBe(400);
  });
});
