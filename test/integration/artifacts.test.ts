import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { waitFor } from '../harness/wait.js';
import { artifactBackends, json, rawRequest, startArtifactApp, type ArtifactApp } from './artifacts-backends.js';

const A = '/api/2.0/mlflow-artifacts/artifacts';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.each(artifactBackends())('artifact proxy on $name', (backend) => {
  let t: ArtifactApp;
  let base: string; // a run-like folder of our own: <exp>/<run>/artifacts
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    base = `7/${uniqueName('run')}/artifacts`;
  });
  afterAll(() => t.close());

  const put = (p: string, body: Buffer | string, type = 'application/octet-stream') =>
    t.api.put(`${A}/${p}`).set('Content-Type', type).send(body);
  const list = (p?: string) => t.api.get(A).query(p === undefined ? {} : { path: p });
  const download = (p: string) =>
    t.api.get(`${A}/${p}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });

  it('stores a PUT body and streams it back with the attachment headers', async () => {
    const body = Buffer.from('hello artifacts\n');
    const up = await put(`${base}/hello.txt`, body, 'text/plain');
    expect(up.status).toBe(200);
    expect(up.body).toEqual({});
    const res = await download(`${base}/hello.txt`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(body);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['content-disposition']).toBe('attachment; filename=hello.txt');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-length']).toBe(String(body.length));
  });

  it('guesses Content-Type from the name as MLflow does', async () => {
    for (const [name, type] of [
      ['MLmodel', 'text/plain'], ['model.pkl', 'application/octet-stream'], ['plot.png', 'image/png'],
      ['data.json', 'text/plain'], ['page.html', 'text/html'], ['table.parquet', 'application/octet-stream'],
    ]) {
      await put(`${base}/types/${name}`, 'x');
      const res = await download(`${base}/types/${name}`);
      expect([name, res.headers['content-type']]).toEqual([name, type]);
    }
  });

  it('answers HEAD with the headers and no body', async () => {
    await put(`${base}/head.bin`, Buffer.alloc(1234, 1));
    const res = await t.api.head(`${A}/${base}/head.bin`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('1234');
    expect(res.headers['content-disposition']).toBe('attachment; filename=head.bin');
  });

  it('replaces an object on a second PUT', async () => {
    await put(`${base}/over.txt`, 'first');
    await put(`${base}/over.txt`, 'second');
    expect((await download(`${base}/over.txt`)).body.toString()).toBe('second');
  });

  it('round-trips a 24 MiB body byte for byte (more than one S3 part)', async () => {
    const body = randomBytes(24 * 1024 * 1024 + 17);
    expect((await put(`${base}/big/blob.bin`, body)).status).toBe(200);
    const res = await download(`${base}/big/blob.bin`);
    expect(res.status).toBe(200);
    expect(sha(res.body)).toBe(sha(body));
  });

  it('stores an empty file', async () => {
    expect((await put(`${base}/empty.txt`, Buffer.alloc(0))).status).toBe(200);
    const res = await download(`${base}/empty.txt`);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    const files = (await list(base)).body.files;
    expect(files).toContainEqual({ path: 'empty.txt', is_dir: false, file_size: 0 });
  });

  it('handles names with spaces, plus signs and non-ASCII characters', async () => {
    const name = 'naïve résumé + ü.txt';
    const up = await t.api.put(`${A}/${base}/odd%20dir/${encodeURIComponent(name)}`).send('odd');
    expect(up.status).toBe(200);
    const files = (await list(`${base}/odd dir`)).body.files;
    expect(files).toEqual([{ path: name, is_dir: false, file_size: 3 }]);
    const res = await download(`${base}/odd%20dir/${encodeURIComponent(name)}`);
    expect(res.body.toString()).toBe('odd');
    expect(res.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent(name)}`);
    const plus = await rawRequest(t, 'PUT', `${A}/${base}/a+b.txt`, 'plus');
    expect(plus.status).toBe(200);
    expect((await list(base)).body.files.map((f: { path: string }) => f.path)).toContain('a+b.txt');
  });

  it('lists one folder: basenames, folders without file_size, sorted', async () => {
    const dir = `${base}/listing`;
    await put(`${dir}/b.txt`, 'bb');
    await put(`${dir}/a.txt`, 'a');
    await put(`${dir}/sub/c.txt`, 'ccc');
    await put(`${dir}/sub/deeper/d.txt`, 'dddd');
    expect((await list(dir)).body).toEqual({
      files: [
        { path: 'a.txt', is_dir: false, file_size: 1 },
        { path: 'b.txt', is_dir: false, file_size: 2 },
        { path: 'sub', is_dir: true },
      ],
    });
    expect((await list(`${dir}/sub/`)).body.files).toEqual([
      { path: 'c.txt', is_dir: false, file_size: 3 },
      { path: 'deeper', is_dir: true },
    ]);
    // A file, or a folder that does not exist, lists as empty.
    expect((await list(`${dir}/a.txt`)).body).toEqual({ files: [] });
    expect((await list(`${dir}/nope`)).body).toEqual({ files: [] });
    // The root lists the experiment folders.
    expect((await list()).body.files).toContainEqual({ path: '7', is_dir: true });
  });

  it('answers 404 RESOURCE_DOES_NOT_EXIST for a missing file or a folder', async () => {
    const missing = await download(`${base}/missing.txt`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString()).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    await put(`${base}/folder/x.txt`, 'x');
    expect((await download(`${base}/folder`)).status).toBe(404);
  });

  it('deletes a file, or a folder recursively, and nothing beside it', async () => {
    const dir = `${base}/del`;
    await put(`${dir}/keep.txt`, 'k');
    await put(`${dir}/gone/a.txt`, 'a');
    await put(`${dir}/gone/deep/b.txt`, 'b');
    await put(`${dir}/gone2/c.txt`, 'c');
    await put(`${dir}/single.txt`, 's');
    expect((await t.api.delete(`${A}/${dir}/gone`)).status).toBe(200);
    expect((await t.api.delete(`${A}/${dir}/single.txt`)).body).toEqual({});
    expect((await list(dir)).body.files).toEqual([
      { path: 'gone2', is_dir: true },
      { path: 'keep.txt', is_dir: false, file_size: 1 },
    ]);
    expect((await download(`${dir}/gone/deep/b.txt`)).status).toBe(404);
    // Deleting what is not there is fine, as in MLflow.
    expect((await t.api.delete(`${A}/${dir}/never`)).status).toBe(200);
  });

  it('serves the same routes under /ajax-api', async () => {
    const ajax = '/ajax-api/2.0/mlflow-artifacts/artifacts';
    expect((await t.api.put(`${ajax}/${base}/ajax.txt`).send('ajax')).status).toBe(200);
    expect((await t.api.get(ajax).query({ path: base })).body.files).toContainEqual({ path: 'ajax.txt', is_dir: false, file_size: 4 });
    expect((await t.api.get(`${ajax}/${base}/ajax.txt`)).status).toBe(200);
  });

  it('answers 405 for another method on an artifact path', async () => {
    const res = await t.api.post(`${A}/${base}/x.txt`).send('x');
    expect(res.status).toBe(405);
  });

  it('leaves nothing behind when the client abandons an upload half-way', async () => {
    const { port } = t.server.address() as { port: number };
    const uploads = () => t.store.listUploads!();
    expect(await uploads()).toEqual([]);
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    const closed = new Promise((resolve) => sock.on('close', resolve));
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write(`PUT ${A}/${base}/aborted/half.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000000\r\n\r\n`);
    sock.write(Buffer.alloc(9 * 1024 * 1024, 7));
    // Abandon it only once the store shows the upload under way (a temporary file; an open S3
    // multipart upload), so the test is about cleaning up a started upload, whatever the timing.
    await waitFor('the upload to begin in the store', async () => (await uploads()).length > 0);
    sock.destroy();
    await closed;
    const leftovers = async () => ({
      listed: (await list(`${base}/aborted`)).body.files,
      inside: (await t.store.listInside()).filter((k) => k.includes('half.bin') || k.startsWith('.cairn-tmp')),
      uploads: await uploads(),
    });
    const clean = { listed: [], inside: [], uploads: [] };
    await waitFor('the abandoned upload to be cleaned up', async () => JSON.stringify(await leftovers()) === JSON.stringify(clean), { timeoutMs: 20_000 }).catch(() => {});
    expect(await leftovers()).toEqual(clean);
  });

  it('answers a malformed path with 400 INVALID_PARAMETER_VALUE', async () => {
    const res = await rawRequest(t, 'GET', `${A}?path=${encodeURIComponent('../etc')}`);
    expect(res.status).toBe(400);
    expect(json(res)).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(json(res).message).toMatch(/^Invalid path/);
  });
});

describe.each(artifactBackends())('tracking-side artifact listing on $name', (backend) => {
  let t: ArtifactApp;
  let runId: string;
  let artifactUri: string;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('art-list') })).body.experiment_id;
    const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info;
    runId = run.run_id;
    artifactUri = run.artifact_uri;
    const root = artifactUri.replace(/^mlflow-artifacts:\//, '');
    for (const p of ['model/MLmodel', 'model/model.pkl', 'metrics.json', 'plots/deep/p.png']) {
      await t.api.put(`${A}/${root}/${p}`).send(`content of ${p}`);
    }
  });
  afterAll(() => t.close());

  const listRun = (query: Record<string, string>) => t.api.get('/api/2.0/mlflow/artifacts/list').query(query);

  it('lists the run root and a sub-folder with paths relative to the run', async () => {
    const root = await listRun({ run_id: runId });
    expect(root.status).toBe(200);
    expect(root.body).toEqual({
      root_uri: artifactUri,
      files: [
        { path: 'metrics.json', is_dir: false, file_size: 'content of metrics.json'.length },
        { path: 'model', is_dir: true },
        { path: 'plots', is_dir: true },
      ],
    });
    const model = await listRun({ run_uuid: runId, path: 'model' });
    expect(model.body.files).toEqual([
      { path: 'model/MLmodel', is_dir: false, file_size: 'content of model/MLmodel'.length },
      { path: 'model/model.pkl', is_dir: false, file_size: 'content of model/model.pkl'.length },
    ]);
  });

  it('answers 404 for an unknown run and 400 for a bad path or missing run id', async () => {
    expect((await listRun({ run_id: 'f'.repeat(32) })).status).toBe(404);
    expect((await listRun({ run_id: runId, path: '../../x' })).status).toBe(400);
    expect((await listRun({})).status).toBe(400);
  });
});
