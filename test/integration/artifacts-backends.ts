import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

/**
 * The artifact suites run once per store: the local folder always, and an S3-compatible server when
 * CAIRN_TEST_S3_ENDPOINT is set (scripts/s3-server.sh starts moto and exports it). In CI (CI=true)
 * a missing S3 server is a failure, not a skip.
 */
export interface ArtifactBackend {
  name: 'local' | 's3';
  /** A fresh place for one app: its --artifacts-destination, plus a sibling "outside" area. */
  allocate(): Promise<Allocation>;
}

export interface Allocation {
  destination: string;
  /** Writes a sentinel next to (not inside) the destination. */
  writeOutside(name: string, body: string): Promise<void>;
  /**
   * Every object or file outside the destination, with its content (local) or its ETag and size (S3:
   * the whole bucket, which belongs to this allocation alone), for before/after checks.
   */
  snapshotOutside(): Promise<Record<string, string>>;
  /** Every object or file inside the destination (relative names), for "nothing was written" checks. */
  listInside(): Promise<string[]>;
  /**
   * Uploads begun and not finished: open S3 multipart uploads anywhere in the bucket (an object listing
   * cannot show them), or the local store's temporary files. Optional only for hand-made allocations.
   */
  listUploads?(): Promise<string[]>;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export const s3Endpoint = process.env.CAIRN_TEST_S3_ENDPOINT;

export function s3Env(): NodeJS.ProcessEnv {
  return {
    MLFLOW_S3_ENDPOINT_URL: s3Endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'cairn-test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'cairn-test-secret',
    AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}

export const s3Bucket = () => process.env.CAIRN_TEST_S3_BUCKET ?? 'cairn-test';

export function testS3Client(): S3Client {
  const env = s3Env();
  return new S3Client({
    endpoint: s3Endpoint,
    forcePathStyle: true,
    region: env.AWS_DEFAULT_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const local: ArtifactBackend = {
  name: 'local',
  async allocate() {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-artifacts-'));
    const destination = path.join(base, 'store');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    const walk = (dir: string, skip?: string): string[] =>
      fs.existsSync(dir)
        ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
            const p = path.join(dir, d.name);
            if (p === skip) return [];
            return d.isDirectory() ? walk(p, skip) : [p];
          })
        : [];
    return {
      destination,
      env: {},
      writeOutside: async (name, body) => fs.writeFileSync(path.join(outside, name), body),
      snapshotOutside: async () =>
        Object.fromEntries(walk(base, destination).map((p) => [path.relative(base, p), fs.readFileSync(p, 'utf8')])),
      listInside: async () => walk(destination).map((p) => path.relative(destination, p)),
      listUploads: async () => walk(path.join(destination, '.cairn-tmp')).map((p) => path.relative(destination, p)),
      cleanup: async () => fs.rmSync(base, { recursive: true, force: true }),
    };
  },
};

const s3: ArtifactBackend = {
  name: 's3',
  async allocate() {
    const client = testS3Client();
    // A bucket of its own: the outside-the-store snapshot covers the whole bucket, so a write that
    // escapes the prefix anywhere is seen, and suites running in parallel cannot disturb it.
    const bucket = uniqueName('cairn-t').toLowerCase();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const listAll = async (prefix: string) => {
      const objects: _Object[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        objects.push(...(page.Contents ?? []));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects;
    };
    const openUploads = async () => {
      const uploads: { key: string; uploadId: string }[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        uploads.push(...(page.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! })));
        if (!page.IsTruncated) return uploads;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    };
    return {
      destination: `s3://${bucket}/store`,
      env: s3Env(),
      writeOutside: async (name, body) => {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `outside/${name}`, Body: body }));
      },
      snapshotOutside: async () => {
        const out: Record<string, string> = {};
        for (const o of await listAll('')) {
          if (!o.Key!.startsWith('store/')) out[o.Key!] = `${o.ETag} ${o.Size}`;
        }
        for (const u of await openUploads()) {
          if (!u.key.startsWith('store/')) out[`(upload) ${u.key}`] = u.uploadId;
        }
        return out;
      },
      listInside: async () => (await listAll('store/')).map((o) => o.Key!.slice('store/'.length)),
      listUploads: async () => (await openUploads()).map((u) => u.key),
      cleanup: async () => {
        for (const u of await openUploads()) {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
        }
        const keys = (await listAll('')).map((o) => o.Key!);
        for (let i = 0; i < keys.length; i += 1000) {
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
        }
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
        client.destroy();
      },
    };
  },
};

export function artifactBackends(): ArtifactBackend[] {
  if (!s3Endpoint && process.env.CI === 'true') {
    throw new Error('CI must run the artifact suites on S3: start it with `eval "$(bash scripts/s3-server.sh start)"`');
  }
  return s3Endpoint ? [local, s3] : [local];
}

export interface ArtifactApp extends TestApp {
  store: Allocation;
}

/** The real app on the test database with its artifacts on the given backend. */
export async function startArtifactApp(backend: ArtifactBackend, extraArgs: string[] = [], envOverride: NodeJS.ProcessEnv = {}): Promise<ArtifactApp> {
  const store = await backend.allocate();
  const app = await startTestApp(['--artifacts-destination', store.destination, ...extraArgs], {
    env: { ...store.env, ...envOverride },
    closeAllConnections: true,
  });
  return {
    ...app,
    store,
    close: async () => {
      await app.close();
      await store.cleanup();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request whose path goes on the wire byte for byte (supertest and fetch normalise some). */
export function rawRequest(app: TestApp, method: string, rawPath: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const json = (r: RawResponse) => JSON.parse(r.body.toString('utf8') || '{}');
