import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { scrubSecrets } from '../../src/observability/scrub.js';

describe('scrubSecrets', () => {
  it.each([
    ['cannot connect to postgresql://cairn:hunter2-db@db:5432/cairn', 'hunter2-db', 'postgresql://cairn:***@db:5432/cairn'],
    ['header Authorization: Basic YWxpY2U6c2VjcmV0LXB3', 'YWxpY2U6c2VjcmV0LXB3', 'Basic ***'],
    ['Bearer cairn-0123456789abcdef0123456789abcdef01234567 refused', 'cairn-0123456789abcdef', 'Bearer ***'],
    ['key cairn-0123456789abcdef0123456789abcdef01234567 made', '0123456789abcdef0123', 'cairn-***'],
    ['GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAX%2F&X-Amz-Signature=deadbeefcafe&X-Amz-Expires=60', 'deadbeefcafe', 'X-Amz-Signature=***'],
    ['PUT http://h/wandb-upload/eyJydW4iOiJ4In0.c2lnbmF0dXJl', 'eyJydW4iOiJ4In0', '/wandb-upload/***'],
    ['PUT http://h/wandb-artifact-part/eyJydW4iOiJ4In0.c2lnbmF0dXJl', 'eyJydW4iOiJ4In0', '/wandb-artifact-part/***'],
    ['GET http://h/wandb-artifact-file/eyJydW4iOiJ4In0.c2lnbmF0dXJl', 'eyJydW4iOiJ4In0', '/wandb-artifact-file/***'],
  ])('masks the secret in %s', (text, secret, masked) => {
    const out = scrubSecrets(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(masked);
  });

  it('leaves ordinary text alone', () => {
    const text = 'run 0123abcd logged 3 metrics to experiment cairn-compat-1 at http://127.0.0.1:5000/api';
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('the logger', () => {
  it('blanks secret-named fields and scrubs secrets out of messages and string fields', () => {
    const out: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void out.push(s) } });
    log.error('could not reach postgresql://u:dbpw-123@h/db', {
      password: 'pw-456',
      headers: { authorization: 'Basic abc' },
      error: 'at Bearer tok-0123456789',
      req: { headers: { Cookie: 'session=ck-789' }, urls: ['s3://k?X-Amz-Signature=sig-321'] },
      status: 500,
    });
    const text = out.join('');
    for (const secret of ['dbpw-123', 'pw-456', 'Basic abc', 'tok-0123456789', 'ck-789', 'sig-321']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ level: 'error', password: '***', headers: { authorization: '***' }, req: { headers: { Cookie: '***' } }, status: 500 });
  });

  it('puts the request id on every line logged while a request is served', async () => {
    const out: Record<string, unknown>[] = [];
    const log = createLogger({ destination: { write: (s: string) => void out.push(JSON.parse(s)) } });
    await log.inRequest('req-1', async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.info('inside');
    });
    log.info('outside');
    expect(out[0]).toMatchObject({ msg: 'inside', request_id: 'req-1' });
    expect(out[1].request_id).toBeUndefined();
  });

  it('writes nothing below its level', () => {
    const out: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (s: string) => void out.push(s) } });
    log.info('quiet');
    log.debug('quieter');
    log.warn('loud');
    expect(out).toHaveLength(1);
  });
});
