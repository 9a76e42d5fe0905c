// Class 1: path traversal in the artifact endpoints (read, write, delete, list, multipart, presign).
// MLflow advisories: issue #7166, CVE-2023-2356, CVE-2023-2780, CVE-2023-6909, CVE-2023-6831,
// CVE-2024-1560, CVE-2023-6730. Every payload must be refused with a 4xx, leave everything outside
// the store untouched, and write nothing inside it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactKey } from '../../src/blobs/keys.js';
import { artifactBackends, json, rawRequest, startArtifactApp, type ArtifactApp } from '../integration/artifacts-backends.js';

const A = '/api/2.0/mlflow-artifacts/artifacts';
const SECRET = 'TOP-SECRET-SENTINEL';

/** As they go on the wire after `<prefix>/`, already percent-encoded where a client would have to. */
export const TRAVERSAL_PATHS = [
  '../../../../../../etc/passwd',
  '1/../../../../../../../outside/secret.txt',
  '..%2F..%2F..%2F..%2Foutside%2Fsecret.txt',
  '1/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e/%2e%2e/%2e%2e/outside/secret.txt',
  '%2E%2E%2F%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt',
  '.%2e/.%2e/outside/secret.txt',
  '%2e./%2e./outside/secret.txt',
  '%252e%252e%252f%252e%252e%252foutside%252fsecret.txt',
  '%25252e%25252e%25252f%25252e%25252e%25252foutside',
  '1/%252e%252e/%252e%252e/outside/secret.txt',
  '..%5c..%5c..%5coutside%5csecret.txt',
  '..\\..\\..\\outside\\secret.txt',
  '1\\..\\..\\outside',
  '%5c..%5c..%5coutside',
  '%2Fetc%2Fpasswd',
  '/etc/passwd',
  '//etc/passwd',
  '%2F%2Fetc%2Fpasswd',
  'etc/passwd%00.jpg',
  '%00',
  'a%00b.txt',
  'a%0d%0aSet-Cookie:%20x=1',
  'a%09b',
  'a%7f',
  'C:%5CWindows%5Cwin.ini',
  'C:/Windows/win.ini',
  'c%3A%2Fwindows',
  'file:///etc/passwd',
  'file:%2F%2F%2Fetc%2Fpasswd',
  'a%23/..%2F..%2F..%2Foutside',
  'x%23y.txt',
  'a;..%2F..%2Foutside',
  'a%3B..%2F..%2Foutside',
  'a%3Fb=..%2F..',
  '....//....//outside',
  '1/%2e',
  '1/%2e%2e',
  '~/.ssh/id_rsa',
  '..%c0%af..%c0%afoutside',
  '%c0%ae%c0%ae/outside',
  '.cairn-tmp/x',
  `${'a/'.repeat(500)}x`,
  `${'x'.repeat(300)}.txt`,
];

/** The same attacks as a decoded query value or JSON string (list `path`, mpu body `path`). */
export const TRAVERSAL_VALUES = [
  '..', '../', '../../outside', '1/../../../outside', '/etc', '//etc', '\\etc', '..\\..\\outside',
  '%2e%2e', '%2e%2e%2f%2e%2e%2foutside', '%252e%252e%252f', 'a/./b', 'a//b', 'a#b', 'a;b', 'a?b',
  'x\u0000y', 'x\ny', 'C:\\x', 'C:x', '~', '.cairn-tmp', 'file:///etc',
];

/** Multipart file names: only the last segment counts (older clients sent a local path), and it is checked. */
const MPU_NAMES = [
  '..', '.', 'a/..', '/tmp/..', 'x\\..', 'C:\\Users\\..', '%2e%2e', '%252e%252e', '%2e%2e%2f%2e%2e%2fx', 'a%2f..',
  'x#y', 'x;y', 'x?y', 'x\u0000y', 'x\ry', 'C:..', '', '/', 'dir/', '.cairn-tmp',
];

describe.each(artifactBackends())('path traversal on $name', (backend) => {
  let t: ArtifactApp;
  let before: Record<string, string>;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    await t.store.writeOutside('secret.txt', SECRET);
    // One legitimate object, so a "list everything" bug would be visible.
    expect((await rawRequest(t, 'PUT', `${A}/1/run/artifacts/ok.txt`, 'ok')).status).toBe(200);
    before = await t.store.snapshotOutside();
  });
  afterAll(() => t.close());

  const refused = (what: string, status: number, body: Buffer) => {
    expect([what, status >= 400 && status < 500]).toEqual([what, true]);
    expect(body.toString('latin1')).not.toContain(SECRET);
    expect(body.toString('latin1')).not.toContain('root:');
  };

  it.each(TRAVERSAL_PATHS)('refuses %s on GET, PUT, DELETE, mpu and presigned', async (p) => {
    for (const [method, url, body] of [
      ['GET', `${A}/${p}`, undefined],
      ['HEAD', `${A}/${p}`, undefined],
      ['PUT', `${A}/${p}`, 'pwned'],
      ['DELETE', `${A}/${p}`, undefined],
      ['POST', `/api/2.0/mlflow-artifacts/mpu/create/${p}`, JSON.stringify({ path: 'x.bin', num_parts: 1 })],
      ['POST', `/api/2.0/mlflow-artifacts/mpu/complete/${p}`, JSON.stringify({ path: 'x.bin', upload_id: 'u', parts: [{ part_number: 1, etag: 'e' }] })],
      ['GET', `/api/2.0/mlflow-artifacts/presigned/${p}`, undefined],
      ['GET', `/ajax-api/2.0/mlflow-artifacts/artifacts/${p}`, undefined],
    ] as const) {
      const res = await rawRequest(t, method, url, body);
      refused(`${method} ${url}`, res.status, res.body);
      if (res.status === 400 && res.body.length) expect(json(res).error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it.each(TRAVERSAL_VALUES)('refuses %j as the list path', async (value) => {
    const list = await rawRequest(t, 'GET', `${A}?path=${encodeURIComponent(value)}`);
    refused(`list ${value}`, list.status, list.body);
    expect(json(list).error_code).toBe('INVALID_PARAMETER_VALUE');
    const ajax = await rawRequest(t, 'GET', `/ajax-api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(value)}`);
    refused(`ajax list ${value}`, ajax.status, ajax.body);
  });

  it.each(MPU_NAMES)('refuses %j as a multipart file name', async (name) => {
    for (const action of ['create', 'complete', 'abort']) {
      const body = { path: name, num_parts: 1, upload_id: 'u', parts: [{ part_number: 1, etag: 'e' }] };
      const res = await rawRequest(t, 'POST', `/api/2.0/mlflow-artifacts/mpu/${action}/1/run/artifacts`, JSON.stringify(body));
      refused(`mpu ${action} ${name}`, res.status, res.body);
      expect(json(res).error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('wrote nothing outside the store, and nothing inside it but the one legitimate file', async () => {
    expect(await t.store.snapshotOutside()).toEqual(before);
    expect((await t.store.listInside()).filter((k) => !k.startsWith('.cairn-tmp/'))).toEqual(['1/run/artifacts/ok.txt']);
  });

  if (backend.name === 'local') it('does not follow a symlink out of the store', async () => {
    const dest = t.store.destination;
    const outside = path.join(path.dirname(dest), 'outside');
    fs.symlinkSync(outside, path.join(dest, 'link'));
    for (const [method, url, body] of [
      ['GET', `${A}/link/secret.txt`, undefined],
      ['PUT', `${A}/link/new.txt`, 'pwned'],
      ['DELETE', `${A}/link/secret.txt`, undefined],
      ['GET', `${A}?path=link`, undefined],
    ] as const) {
      const res = await rawRequest(t, method, url, body);
      refused(`${method} ${url}`, res.status, res.body);
    }
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(fs.existsSync(path.join(outside, 'new.txt'))).toBe(false);
    fs.unlinkSync(path.join(dest, 'link'));
  });
});

describe('artifactKey (the one place paths become store keys)', () => {
  it.each([
    ['1/abc/artifacts/model/MLmodel', '1/abc/artifacts/model/MLmodel'],
    ['dir%20with%20space/f.txt', 'dir with space/f.txt'],
    ['a+b.txt', 'a+b.txt'],
    ['100%.txt', '100%.txt'],
    ['na%C3%AFve.txt', 'naïve.txt'],
    ['dir/', 'dir'],
    ['...', '...'],
    ['.hidden', '.hidden'],
    ['a..b', 'a..b'],
    // Fully decoded these are '..x' and '.2e': odd names, but single segments, never traversal.
    ['%252e%252ex', '%2e%2ex'],
    ['%%32%65%32%65', '%2e2e'],
  ])('accepts %j as %j', (raw, key) => {
    expect(artifactKey(raw)).toBe(key);
  });

  it.each([...TRAVERSAL_PATHS, '', '.', '..', 'a/./b', 'a//b', '%2e', '%2E%2E', 'a/%2e%2e/b', `%${'25'.repeat(11)}2e`])('refuses %j', (raw) => {
    expect(() => artifactKey(raw)).toThrow(/^Invalid path/);
  });
});
