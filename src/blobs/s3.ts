import https from 'node:https';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { invalidParam, MlflowError, notFound } from '../errors.js';
import { storeCall, storeUnavailable, type BlobBody, type BlobEntry, type BlobObject, type BlobStore, type ByteRange, type CompletedPart, type MultipartUploads, type PresignedPart } from './store.js';

/** What MLflow users already export for boto3, read once by config.ts. */
export interface S3Settings {
  endpointUrl?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  ignoreTls: boolean;
  /** Bound on one S3 call, and on a socket left silent while a body streams (ms). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
// The bucket is missing or the server's credentials are refused: retrying cannot help, so these are
// answered with a 4xx the clients do not retry (a 503 had the mlflow client retrying for minutes).
const DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'AccountProblem', 'InvalidToken', 'ExpiredToken']);

// Part URLs must outlive the slowest part upload of a large file.
const PART_URL_TTL_SECONDS = 3600;
const MAX_PARTS = 10_000;
// lib-storage holds at most queueSize × partSize bytes of an upload in memory.
const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
const UPLOAD_QUEUE = 2;

/**
 * An S3-compatible bucket under an optional prefix. With MLFLOW_S3_ENDPOINT_URL (MinIO, moto,
 * SeaweedFS) addressing is path-style. Failures of the service itself become 503
 * TEMPORARILY_UNAVAILABLE with the reason, never a 500.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly multipart: MultipartUploads;
  private readonly timeoutMs: number;
  private readonly endpoint?: string;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    settings: S3Settings,
  ) {
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.endpoint = settings.endpointUrl;
    const credentials =
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, sessionToken: settings.sessionToken }
        : undefined;
    quietNodeVersionWarning();
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpointUrl,
      forcePathStyle: Boolean(settings.endpointUrl),
      credentials,
      // Flexible checksums by default break presigned part URLs and older S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: {
        connectionTimeout: Math.min(5000, this.timeoutMs),
        // A frozen server accepts the connection and then says nothing: bound the silence (the
        // socket's inactivity, so a large body keeps streaming for as long as it moves).
        socketTimeout: this.timeoutMs,
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: !settings.ignoreTls }),
      },
    });
    this.multipart = {
      create: (key, numParts) => this.createMultipart(key, numParts),
      complete: (key, uploadId, parts) => this.completeMultipart(key, uploadId, parts),
      abort: (key, uploadId) => this.abortMultipart(key, uploadId),
    };
  }

  get location(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  private objectKey(key: string): string {
    return [this.prefix, key].filter(Boolean).join('/');
  }

  async put(key: string, body: BlobBody, contentType?: string): Promise<void> {
    if (body instanceof Uint8Array) {
      // One PutObject: the multipart manager would only wrap it in the same call.
      await this.call((abortSignal) => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentLength: body.length, ContentType: contentType }), { abortSignal }), key);
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentType: contentType },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE,
      leavePartsOnError: false,
    });
    await this.call(() => upload.done(), key);
  }

  async get(key: string, range?: ByteRange): Promise<BlobObject> {
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    const res = await this.call((abortSignal) => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range }), { abortSignal }), key);
    return { body: res.Body as Readable, size: Number(res.ContentLength ?? 0) };
  }

  async head(key: string): Promise<{ size: number }> {
    const res = await this.call((abortSignal) => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { abortSignal }), key);
    return { size: Number(res.ContentLength ?? 0) };
  }

  async list(dirKey: string): Promise<BlobEntry[]> {
    const base = this.objectKey(dirKey);
    const prefix = base ? `${base}/` : '';
    const entries: BlobEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(
        (abortSignal) => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }), { abortSignal }),
        dirKey,
      );
      for (const p of page.CommonPrefixes ?? []) {
        const name = (p.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (name) entries.push({ name, isDir: true });
      }
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? '').slice(prefix.length);
        // A key equal to the prefix is a folder marker some tools write, not a file.
        if (name) entries.push({ name, isDir: false, size: Number(o.Size ?? 0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    if (!key) throw invalidParam('Invalid path: refusing to delete the whole artifact store');
    const base = this.objectKey(key);
    // The object itself and everything under "<key>/", but not a sibling such as "<key>2".
    await this.deleteKeys([base], key);
    let token: string | undefined;
    do {
      const page = await this.call(
        (abortSignal) => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${base}/`, ContinuationToken: token }), { abortSignal }),
        key,
      );
      const keys = (page.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      if (keys.length) await this.deleteKeys(keys, key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteKeys(keys: string[], key: string): Promise<void> {
    const res = await this.call(
      (abortSignal) => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }), { abortSignal }),
      key,
    );
    const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length) throw storeUnavailable(this.location, `could not delete ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
  }

  async presignGet(key: string, ttlSeconds: number): Promise<{ url: string; size: number }> {
    const { size } = await this.head(key);
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { expiresIn: ttlSeconds });
    return { url, size };
  }

  private async createMultipart(key: string, numParts: number): Promise<{ uploadId: string; parts: PresignedPart[] }> {
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw invalidParam(`Invalid value ${numParts} for parameter 'num_parts': it must be between 1 and ${MAX_PARTS}`);
    }
    const Key = this.objectKey(key);
    const created = await this.call((abortSignal) => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key }), { abortSignal }), key);
    const uploadId = created.UploadId!;
    const parts: PresignedPart[] = [];
    for (let partNumber = 1; partNumber <= numParts; partNumber++) {
      const url = await getSignedUrl(this.client, new UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn: PART_URL_TTL_SECONDS,
      });
      parts.push({ partNumber, url, headers: {} });
    }
    return { uploadId, parts };
  }

  private async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    await this.call(
      (abortSignal) =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.objectKey(key),
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
          { abortSignal },
        ),
      key,
    );
  }

  private async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.call((abortSignal) => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.objectKey(key), UploadId: uploadId }), { abortSignal }), key);
    } catch (err) {
      // Aborting twice, or after S3 expired the upload, is what the caller wanted anyway.
      if (!(err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST')) throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * At start-up: the bucket exists and the credentials are accepted. Throws a one-line reason
   * naming the bucket otherwise.
   */
  async check(): Promise<void> {
    try {
      await this.bounded((abortSignal) => this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal }));
    } catch (err) {
      const name = (err as { name?: string })?.name ?? '';
      const status = err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined;
      const where = `${this.location}${this.endpoint ? ` at ${this.endpoint}` : ''}`;
      if (name === 'NoSuchBucket' || name === 'NotFound' || status === 404) {
        throw new Error(`the artifact store's bucket '${this.bucket}' does not exist (${where}): create it, or fix the artifact store setting`);
      }
      if (DENIED.has(name) || status === 403) {
        throw new Error(`the artifact store's bucket '${this.bucket}' refuses Cairn's credentials (${name || status}, ${where}): check AWS_ACCESS_KEY_ID and the bucket's policy`);
      }
      throw new Error(`cannot reach the artifact store's bucket '${this.bucket}' (${where}): ${(err as Error)?.message || name}`);
    }
  }

  /**
   * One S3 request, abandoned past the timeout (retries included). The timer stops once the
   * response has begun: a body then streams for as long as it keeps moving (see requestTimeout).
   */
  private async bounded<T>(op: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      return await op(abort.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private call<T>(op: (abortSignal: AbortSignal) => Promise<T>, key: string): Promise<T> {
    return storeCall(() => this.bounded(op), (err) => this.failure(err, key));
  }

  private failure(err: unknown, key: string): Error {
    if (err instanceof MlflowError) return err;
    const name = (err as { name?: string })?.name ?? '';
    const status = err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined;
    if (name === 'NoSuchBucket') {
      return new MlflowError('RESOURCE_DOES_NOT_EXIST', `The artifact store's bucket '${this.bucket}' does not exist: the server's artifact store setting needs fixing`);
    }
    if (DENIED.has(name) || status === 403) {
      return new MlflowError('PERMISSION_DENIED', `The artifact store ${this.location} refuses the server's credentials (${name || status}): the server's S3 settings need fixing`);
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return notFound(`Artifact '${key}' does not exist`);
    }
    if (name === 'NoSuchUpload') return notFound(`No multipart upload with that upload_id for '${key}'`);
    if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall' || name === 'MalformedXML') {
      return invalidParam(`The multipart upload of '${key}' was refused by the store: ${name}: ${(err as Error).message}`);
    }
    if (name === 'AbortError' || name === 'TimeoutError') return storeUnavailable(this.location, `no answer within ${this.timeoutMs / 1000} s`);
    const message = (err as Error)?.message || name || String(err);
    return storeUnavailable(this.location, name && !message.startsWith(name) ? `${name}: ${message}` : message);
  }
}

/**
 * The AWS SDK warns once per process on Node < 22 that its releases after January 2027 will need
 * Node 22. Cairn pins SDK releases that support Node 20 (package.json; README, "Node versions"), so
 * on a supported Node the warning concerns nothing Cairn runs, and a start-up failure stays one
 * line. Set here, where the client is made, so every entry point (server, workers, import, tests)
 * is covered; an empty value counts as unset, and an operator's own setting is kept.
 */
function quietNodeVersionWarning(): void {
  if (!process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
