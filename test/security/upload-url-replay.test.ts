// Class: replayed credentials and spoofed forwarding headers. The URL CreateRunFiles hands out is
// the only credential of the wandb client's upload PUT; a copy of it (proxy log, shell history)
// could overwrite the run's file for 24 hours, and its host came from any caller's
// X-Forwarded-Host. URLs now live minutes (--wandb-upload-url-ttl), work once, and forwarded
// headers count only from --forwarded-allow-ips.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { trustedProxies } from '../../src/http/trusted-proxies.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { basic, CREATE_RUN_FILES, newKey, runIdSuffix, wandbClient } from '../integration/wandb-helpers.js';

const S = runIdSuffix();

/** A fresh run and one upload URL for `file`, asked for as the wandb client does (with extra headers). */
async function uploadUrl(t: TestApp, key: string, run: string, file: string, headers: Record<string, string> = {}): Promise<URL> {
  const project = `upl-${run}`;
  await wandbClient(t, key).upsert({ name: run, project });
  const res = await t.api
    .post('/graphql')
    .set('Authorization', basic(key))
    .set(headers)
    .send({ query: CREATE_RUN_FILES, variables: { entity: 'alice', project, run, files: [file] } });
  return new URL(res.body.data.createRunFiles.files[0].uploadUrl);
}

const grantOf = (url: URL) => JSON.parse(Buffer.from(url.pathname.split('/').pop()!.split('.')[0], 'base64url').toString()) as { e: number };

describe('W&B upload URLs', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp();
    key = await newKey(t);
  });
  afterAll(() => t.close());

  const download = async (run: string, file: string) => {
    const info = (await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: run })).body.run.info;
    const res = await t.api.get(`/api/2.0/mlflow-artifacts/artifacts/${info.artifact_uri.replace('mlflow-artifacts:/', '')}/${file}`).buffer(true);
    return res.text ?? res.body.toString();
  };

  it('work once: a replay is refused and the file keeps what the first PUT wrote', async () => {
    const run = `replay01${S}`;
    const url = await uploadUrl(t, key, run, 'weights.txt');
    expect((await t.api.put(url.pathname).send('the real weights')).status).toBe(200);
    const replay = await t.api.put(url.pathname).send('tampered');
    expect(replay.status).toBe(403);
    expect(replay.body).toMatchObject({ error_code: 'PERMISSION_DENIED', message: expect.stringMatching(/already been used/) });
    // The signature's last character carries two unused bits: a re-spelt copy decodes to the same
    // bytes and must count as the same, spent URL.
    const [payload, mac] = url.pathname.split('/').pop()!.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    const respelt = `${mac.slice(0, -1)}${alphabet[(last & ~3) | ((last + 1) & 3)]}`;
    expect(Buffer.from(respelt, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect((await t.api.put(`/wandb-upload/${payload}.${respelt}`).send('tampered')).status).toBe(403);
    expect(await download(run, 'weights.txt')).toBe('the real weights');
    // The client asks for a new URL to write the file again.
    const again = await uploadUrl(t, key, run, 'weights.txt');
    expect(again.pathname).not.toBe(url.pathname);
    expect((await t.api.put(again.pathname).send('v2')).status).toBe(200);
    expect(await download(run, 'weights.txt')).toBe('v2');
  });

  it('are released by a transfer that breaks off, so the client can retry the same URL', async () => {
    const run = `broken01${S}`;
    const url = await uploadUrl(t, key, run, 'big.bin');
    const { port } = t.server.address() as { port: number };
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: url.pathname, headers: { 'Content-Length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(10), () => setImmediate(() => req.destroy()));
      req.on('close', () => resolve());
    });
    // The server notices the broken body on its own schedule: retry until it has let go of the URL.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await t.api.put(url.pathname).send('complete body')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    expect(await download(run, 'big.bin')).toBe('complete body');
    expect((await t.api.put(url.pathname).send('again')).status).toBe(403);
  });

  it('expire after --wandb-upload-url-ttl (15 minutes by default)', async () => {
    const before = Date.now();
    const url = await uploadUrl(t, key, `expire01${S}`, 'late.txt');
    const { e } = grantOf(url);
    expect(e - before).toBeGreaterThanOrEqual(900_000);
    expect(e - Date.now()).toBeLessThanOrEqual(900_000);
    const realNow = t.deps.now;
    t.deps.now = () => e + 1;
    try {
      const res = await t.api.put(url.pathname).send('too late');
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/expired/);
    } finally {
      t.deps.now = realNow;
    }
    expect(parseConfig(['--wandb-upload-url-ttl', '60']).wandbUploadUrlTtl).toBe(60);
    expect(parseConfig([], { CAIRN_WANDB_UPLOAD_URL_TTL: '120' }).wandbUploadUrlTtl).toBe(120);
    expect(() => parseConfig(['--wandb-upload-url-ttl', 'forever'])).toThrow(/--wandb-upload-url-ttl/);
  });

  it('believe X-Forwarded-Host from a trusted proxy (loopback by default)', async () => {
    const url = await uploadUrl(t, key, `fwd00001${S}`, 'a.txt', { 'X-Forwarded-Host': 'cairn.example.com', 'X-Forwarded-Proto': 'https' });
    expect(url.origin).toBe('https://cairn.example.com');
  });
});

describe('forwarded headers from an untrusted peer', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(['--forwarded-allow-ips', '10.0.0.0/8']);
    key = await newKey(t);
  });
  afterAll(() => t.close());

  it('are ignored: the URL names the host the request reached', async () => {
    const port = (t.server.address() as { port: number }).port;
    const url = await uploadUrl(t, key, `fwd00002${S}`, 'a.txt', { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Prefix': '/x' });
    expect(url.origin).toBe(`http://127.0.0.1:${port}`);
    expect(url.pathname.startsWith('/wandb-upload/')).toBe(true);
  });
});

describe('--forwarded-allow-ips', () => {
  it('takes addresses and CIDR ranges, maps IPv4-in-IPv6 peers, and refuses anything else', () => {
    const trusts = trustedProxies(['10.0.0.0/8', '::1', '192.168.1.7']);
    expect(['10.2.3.4', '::ffff:10.9.9.9', '::1', '192.168.1.7'].map(trusts)).toEqual([true, true, true, true]);
    expect(['11.0.0.1', '192.168.1.8', '127.0.0.1', undefined, 'garbage'].map(trusts)).toEqual([false, false, false, false, false]);
    expect(trustedProxies(['*'])('203.0.113.9')).toBe(true);
    expect(parseConfig([]).forwardedAllowIps).toEqual(['127.0.0.1', '::1']);
    expect(parseConfig([], { FORWARDED_ALLOW_IPS: '10.1.1.1, 10.1.1.2' }).forwardedAllowIps).toEqual(['10.1.1.1', '10.1.1.2']);
    expect(() => parseConfig(['--forwarded-allow-ips', 'proxy.internal'])).toThrow(ConfigError);
    expect(() => parseConfig(['--forwarded-allow-ips', '10.0.0.0/33'])).toThrow(/forwarded-allow-ips/);
  });
});
