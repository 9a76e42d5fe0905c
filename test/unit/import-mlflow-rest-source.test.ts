import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowRestSource } from '../../src/importers/mlflow/rest-source.js';
import { SourceError } from '../../src/importers/mlflow/source.js';

// A server that stands in for `mlflow server --app-name basic-auth`: only admin:secret may list.
let server: http.Server;
let url: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== `Basic ${Buffer.from('admin:s3cr:et').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="mlflow"' }).end('You are not authenticated.');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"experiments":[{"experiment_id":"0","name":"Default","lifecycle_stage":"active"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function names(src: MlflowRestSource): Promise<string[]> {
  const out: string[] = [];
  for await (const e of src.experiments()) out.push(e.name);
  return out;
}

describe('MlflowRestSource credentials', () => {
  it('sends basic auth from --username/--password', async () => {
    expect(await names(new MlflowRestSource(url, { username: 'admin', password: 's3cr:et' }))).toEqual(['Default']);
  });

  it('takes credentials written in the URL, and does not send them in the URL', async () => {
    const withCreds = url.replace('http://', 'http://admin:s3cr%3Aet@');
    const src = new MlflowRestSource(withCreds);
    expect(src.label).toBe(url);
    expect(await names(src)).toEqual(['Default']);
  });

  it('refuses wrong credentials with one line naming the server', async () => {
    const err = await names(new MlflowRestSource(url, { username: 'admin', password: 'wrong' })).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`${url} refused the credentials (HTTP 401); check --username/--password`);
  });

  it('names an unreachable server', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await names(new MlflowRestSource(`http://127.0.0.1:${port}`)).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toContain(`cannot reach http://127.0.0.1:${port}`);
  });
});
