import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../harness/app.js';
import { artifactBackends, startArtifactApp, type ArtifactApp } from './artifacts-backends.js';
import { newKey, runIdSuffix, wandbClient, type Client } from './wandb-helpers.js';

// Multipart artifact uploads as wandb-core drives them for files of 2 GiB and more (the real client
// at that size is in test/compat/artifacts/test_wandb_multipart.py): part URLs from
// CreateArtifactFiles, part PUTs answered with ETags, CompleteMultipartUploadArtifact; then ranged
// downloads. Small parts here: Cairn sets no minimum part size.

const CREATE = `mutation CreateArtifact($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id state } } }`;
const MANIFEST = `mutation CreateArtifactManifest ($artifactID: ID!, $name: String!, $digest: String!, $entityName: String!, $projectName: String!, $runName: String!) {
  createArtifactManifest(input: {artifactID:$artifactID,name:$name,digest:$digest,entityName:$entityName,projectName:$projectName,runName:$runName,type:FULL}) {
    artifactManifest { id file { id uploadUrl uploadHeaders } } } }`;
// wandb-core's CreateArtifactFiles, as its generated client sends it.
const FILES = `mutation CreateArtifactFiles ($input: CreateArtifactFilesInput!) { createArtifactFiles(input: $input) { files { edges { node {
  storagePath uploadUrl uploadHeaders uploadMultipartUrls { uploadID uploadUrlParts { partNumber uploadUrl } } artifact { id } } } } } }`;
const COMPLETE = `mutation CompleteMultipartUploadArtifact ($completeMultipartAction: CompleteMultipartAction!, $completedParts: [UploadPartsInput!]!, $artifactID: ID!, $storagePath: String!, $uploadID: String!) {
  completeMultipartUploadArtifact(input: {completeMultipartAction:$completeMultipartAction,completedParts:$completedParts,artifactID:$artifactID,storagePath:$storagePath,uploadID:$uploadID}) { digest } }`;
const COMMIT = `mutation CommitArtifact ($artifactID: ID!) { commitArtifact(input: {artifactID:$artifactID}) { artifact { id state } } }`;
const FILE_URLS = `query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!, $alias: String!) { project(name: $project, entityName: $entity) {
  artifactCollection(name: $collection) { artifactMembership(aliasName: $alias) { files { edges { node { name directUrl } } } } } } }`;

const S = runIdSuffix();
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const path = (url: string) => new URL(url).pathname;
// Bytes of their own per test and per store: stored bytes are never asked for again.
const partsFor = (tag: string) => [Buffer.from(`${tag} ${S}: the first part, `), Buffer.from('then the second, '), Buffer.from('and the end.')];

describe.each(artifactBackends())('W&B multipart artifact uploads on $name', (backend) => {
  let t: ArtifactApp;
  let w: Client;
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    w = wandbClient(t, await newKey(t, 'alice'));
  });
  afterAll(() => t.close());

  async function begin(project: string, run: string, name: string, whole: Buffer, parts: Buffer[]) {
    await w.upsert({ name: run, project });
    const created = await w.gql(CREATE, { input: { artifactTypeName: 'dataset', artifactCollectionNames: [name], entityName: 'alice', projectName: project, runName: run, digest: md5(whole).toString('hex') } });
    const id = created.body.data.createArtifact.artifact.id as string;
    const spec = { artifactID: id, name: 'big.bin', md5: md5(whole).toString('base64'), uploadPartsInput: parts.map((p, i) => ({ partNumber: i + 1, hexMD5: md5(p).toString('hex') })) };
    const files = await w.gql(FILES, { input: { storageLayout: 'V2', artifactFiles: [spec] } });
    expect(files.body.errors).toBeUndefined();
    return { id, spec, node: files.body.data.createArtifactFiles.files.edges[0].node };
  }
  const complete = (id: string, node: { storagePath: string; uploadMultipartUrls: { uploadID: string } }, parts: Buffer[], over: Record<string, unknown> = {}) =>
    w.gql(COMPLETE, {
      completeMultipartAction: 'Complete',
      completedParts: parts.map((p, i) => ({ partNumber: i + 1, hexMD5: `"${md5(p).toString('hex')}"` })),
      artifactID: id,
      storagePath: node.storagePath,
      uploadID: node.uploadMultipartUrls.uploadID,
      ...over,
    });

  it('joins parts uploaded in any order into the file, checks every digest, and serves byte ranges', async () => {
    const project = uniqueName('artmp');
    const run = `artmp1-${S}`;
    const PARTS = partsFor(`one ${backend.name}`);
    const WHOLE = Buffer.concat(PARTS);
    const { id, spec, node } = await begin(project, run, 'big', WHOLE, PARTS);
    expect(node.uploadUrl).toBeTruthy(); // null would tell the client the bytes are already stored
    const urls = node.uploadMultipartUrls.uploadUrlParts as { partNumber: number; uploadUrl: string }[];
    expect(urls.map((u) => u.partNumber)).toEqual([1, 2, 3]);

    const wrong = await t.api.put(path(urls[1].uploadUrl)).send(Buffer.from('not the second part'));
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/Digest mismatch: part 2/);
    for (const i of [2, 0, 1]) {
      const res = await t.api.put(path(urls[i].uploadUrl)).send(PARTS[i]);
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe(`"${md5(PARTS[i]).toString('hex')}"`);
    }

    expect((await complete(id, node, PARTS.slice(0, 2))).body.errors?.[0].message).toMatch(/has 3 parts, 2 were completed/);
    expect((await complete(id, node, PARTS, { storagePath: 'wandb-artifacts/md5/elsewhere' })).body.errors?.[0].message).toMatch(/storagePath/);
    expect((await complete(id, node, PARTS, { uploadID: 'forged.token' })).body.errors?.[0].message).toMatch(/Upload URL has an invalid signature/);
    // A client whose completion timed out sends it again while the first still joins: both succeed.
    const [done, retried] = await Promise.all([complete(id, node, PARTS), complete(id, node, PARTS)]);
    for (const r of [done, retried]) {
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.completeMultipartUploadArtifact.digest).toBe(spec.md5);
    }
    expect((await t.store.listInside()).filter((k) => k.includes('wandb-artifacts/uploads/'))).toEqual([]);
    // Stored now: asking again gets no upload URL at all.
    const again = await w.gql(FILES, { input: { storageLayout: 'V2', artifactFiles: [spec] } });
    expect(again.body.data.createArtifactFiles.files.edges[0].node).toMatchObject({ uploadUrl: null, uploadMultipartUrls: null });

    const manifest = await w.gql(MANIFEST, { artifactID: id, name: 'wandb_manifest.json', digest: md5(WHOLE).toString('hex'), entityName: 'alice', projectName: project, runName: run });
    const manifestBody = JSON.stringify({ version: 1, storagePolicy: 'wandb-storage-policy-v1', storagePolicyConfig: { storageLayout: 'V2' }, contents: { 'big.bin': { digest: spec.md5, size: WHOLE.length } } });
    expect((await t.api.put(path(manifest.body.data.createArtifactManifest.artifactManifest.file.uploadUrl)).send(manifestBody)).status).toBe(200);
    expect((await w.gql(COMMIT, { artifactID: id })).body.data.commitArtifact.artifact.state).toBe('COMMITTED');

    const listed = await w.gql(FILE_URLS, { entity: 'alice', project, collection: 'big', alias: 'v0' });
    const url = path(listed.body.data.project.artifactCollection.artifactMembership.files.edges[0].node.directUrl);
    const get = (range?: string) => {
      const req = t.api.get(url).buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      return range ? req.set('Range', range) : req;
    };
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(Buffer.compare(whole.body as Buffer, WHOLE)).toBe(0);
    const mid = await get('bytes=4-8');
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 4-8/${WHOLE.length}`);
    expect((mid.body as Buffer).toString()).toBe(WHOLE.subarray(4, 9).toString());
    const tail = await get(`bytes=${WHOLE.length - 4}-`);
    expect([tail.status, (tail.body as Buffer).toString()]).toEqual([206, 'end.']);
    const suffix = await get('bytes=-4');
    expect([suffix.status, (suffix.body as Buffer).toString()]).toEqual([206, 'end.']);
    // Past the end, or several ranges: the whole file, as RFC 9110 allows.
    for (const range of [`bytes=${WHOLE.length + 10}-`, 'bytes=0-1,4-5']) {
      const res = await get(range);
      expect([res.status, (res.body as Buffer).length], range).toEqual([200, WHOLE.length]);
    }
  });

  it('refuses to complete with a part missing, keeps the parts for the retry, and refuses joined bytes that miss the file MD5', async () => {
    const project = uniqueName('artmp');
    const run = `artmp2-${S}`;
    const PARTS = partsFor(`two ${backend.name}`);
    const WHOLE = Buffer.concat(PARTS);
    const { id, node } = await begin(project, run, 'gap', WHOLE, PARTS);
    const urls = node.uploadMultipartUrls.uploadUrlParts as { uploadUrl: string }[];
    for (const i of [0, 2]) expect((await t.api.put(path(urls[i].uploadUrl)).send(PARTS[i])).status).toBe(200);
    const gap = await complete(id, node, PARTS);
    expect(gap.body.errors?.[0].message).toMatch(/Part 2 of the multipart upload was never uploaded/);
    expect((await t.api.put(path(urls[1].uploadUrl)).send(PARTS[1])).status).toBe(200);
    expect((await complete(id, node, PARTS)).body.errors).toBeUndefined();

    // Parts that are each what they said, announced for a file with other bytes.
    const other = Buffer.from('a file that is not the parts');
    const liar = await begin(project, run, 'liar', other, PARTS);
    const parts = liar.node.uploadMultipartUrls.uploadUrlParts as { uploadUrl: string }[];
    for (const [i, p] of parts.entries()) expect((await t.api.put(path(p.uploadUrl)).send(PARTS[i])).status).toBe(200);
    const res = await complete(liar.id, liar.node, PARTS);
    expect(res.body.errors?.[0].message).toMatch(/Digest mismatch: the joined parts/);
    const inside = await t.store.listInside();
    expect(inside.filter((k) => k.includes('wandb-artifacts/uploads/'))).toEqual([]);
    expect(inside).not.toContain(`wandb-artifacts/md5/${md5(other).toString('hex')}`);
  });

  it('refuses an upload naming parts out of sequence', async () => {
    const project = uniqueName('artmp');
    const run = `artmp3-${S}`;
    const PARTS = partsFor(`three ${backend.name}`);
    const WHOLE = Buffer.concat(PARTS);
    await w.upsert({ name: run, project });
    const created = await w.gql(CREATE, { input: { artifactTypeName: 'dataset', artifactCollectionNames: ['seq'], entityName: 'alice', projectName: project, runName: run, digest: '2'.repeat(32) } });
    const id = created.body.data.createArtifact.artifact.id;
    const hex = md5(PARTS[0]).toString('hex');
    for (const parts of [[{ partNumber: 1, hexMD5: hex }, { partNumber: 3, hexMD5: hex }], [{ partNumber: 1, hexMD5: 'zz' }]]) {
      const res = await w.gql(FILES, { input: { storageLayout: 'V2', artifactFiles: [{ artifactID: id, name: 'x', md5: md5(WHOLE).toString('base64'), uploadPartsInput: parts }] } });
      expect(res.body.errors?.[0].message).toMatch(/numbered 1 to 2|invalid hexMD5/);
    }
  });
});
