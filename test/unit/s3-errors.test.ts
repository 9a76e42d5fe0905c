import { NoSuchBucket, NoSuchKey, NoSuchUpload, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { S3BlobStore } from '../../src/blobs/s3.js';
import { MlflowError } from '../../src/errors.js';

// How S3BlobStore maps what the S3 SDK throws to MLflow errors. The S3 server the integration tests
// run on (moto) answers some of these with errors of its own (a 500 where AWS says NoSuchUpload),
// so each mapping is pinned here with the SDK's own error classes thrown from a stubbed `send`: no
// request leaves the process.

const settings = { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:9', accessKeyId: 'k', secretAccessKey: 's', ignoreTls: false };
const meta = (httpStatusCode: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });

function storeThrowing(err: unknown): S3BlobStore {
  const store = new S3BlobStore('bucket', 'prefix', settings);
  vi.spyOn(store.client, 'send').mockImplementation(async () => {
    throw err;
  });
  return store;
}

async function failure(op: (s: S3BlobStore) => Promise<unknown>, err: unknown): Promise<{ code: string; status: number; message: string }> {
  const store = storeThrowing(err);
  try {
    await op(store);
  } catch (e) {
    expect(e).toBeInstanceOf(MlflowError);
    const m = e as MlflowError;
    return { code: m.code, status: m.status, message: m.message };
  } finally {
    await store.close();
  }
  throw new Error('the operation did not fail');
}

const complete = (s: S3BlobStore) => s.multipart.complete('1/r/artifacts/w.bin', 'upload-1', [{ partNumber: 1, etag: '"e"' }]);
const get = (s: S3BlobStore) => s.get('1/r/artifacts/w.bin');
const head = (s: S3BlobStore) => s.head('1/r/artifacts/w.bin');

afterEach(() => vi.restoreAllMocks());

describe('S3 errors as MLflow errors', () => {
  it('maps NoSuchUpload on complete to 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const err = new NoSuchUpload({ message: 'The specified upload does not exist.', $metadata: meta(404) });
    expect(await failure(complete, err)).toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST', status: 404, message: expect.stringContaining('1/r/artifacts/w.bin') });
  });

  it('maps NoSuchUpload without a status (as some servers send it) to 404 too', async () => {
    const err = new NoSuchUpload({ message: 'gone', $metadata: {} });
    expect(await failure(complete, err)).toEqual({
      code: 'RESOURCE_DOES_NOT_EXIST',
      status: 404,
      message: "No multipart upload with that upload_id for '1/r/artifacts/w.bin'",
    });
  });

  it('maps NoSuchKey, NotFound and any other 404 to RESOURCE_DOES_NOT_EXIST', async () => {
    const missing = { code: 'RESOURCE_DOES_NOT_EXIST', status: 404, message: "Artifact '1/r/artifacts/w.bin' does not exist" };
    expect(await failure(get, new NoSuchKey({ message: 'no key', $metadata: meta(404) }))).toEqual(missing);
    expect(await failure(head, new NotFound({ message: '', $metadata: meta(404) }))).toEqual(missing);
    const unnamed = new S3ServiceException({ name: 'Unknown', $fault: 'client', $metadata: meta(404), message: 'UnknownError' });
    expect(await failure(head, unnamed)).toEqual(missing);
  });

  it('maps a missing bucket to 404 naming the bucket (a setting to fix, not worth retrying)', async () => {
    const bucket = await failure(get, new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: meta(404) }));
    expect(bucket).toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST', status: 404 });
    expect(bucket.message).toContain("bucket 'bucket' does not exist");
  });

  it('maps a server error and a network failure to 503 TEMPORARILY_UNAVAILABLE', async () => {
    const internal = new S3ServiceException({ name: 'InternalError', $fault: 'server', $metadata: meta(500), message: 'We encountered an internal error.' });
    expect(await failure(complete, internal)).toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE', status: 503, message: expect.stringContaining('InternalError') });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(await failure(get, refused)).toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE', status: 503, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('maps a refused part list to 400 INVALID_PARAMETER_VALUE', async () => {
    const err = new S3ServiceException({ name: 'InvalidPart', $fault: 'client', $metadata: meta(400), message: 'One or more of the specified parts could not be found.' });
    expect(await failure(complete, err)).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', status: 400 });
  });

  it('treats aborting an upload S3 no longer has as done', async () => {
    const store = storeThrowing(new NoSuchUpload({ message: 'gone', $metadata: meta(404) }));
    await expect(store.multipart.abort('1/r/artifacts/w.bin', 'upload-1')).resolves.toBeUndefined();
    expect(vi.mocked(store.client.send)).toHaveBeenCalledTimes(1);
    await store.close();
  });
});
