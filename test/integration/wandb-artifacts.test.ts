import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { artifactBackends, startArtifactApp } from './artifacts-backends.js';
import { newKey, runIdSuffix, wandbClient, type Client } from './wandb-helpers.js';

// The artifact flow as wandb-core drives it (documents from its generated client, trimmed to the
// fields it reads): create, manifest, file URLs, uploads, commit; then reads by name and alias.

const CREATE = `mutation CreateArtifact($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id state artifactSequence { latestArtifact { id } } } } }`;
const MANIFEST = `mutation CreateArtifactManifest ($artifactID: ID!, $baseArtifactID: ID, $name: String!, $digest: String!, $entityName: String!, $projectName: String!, $runName: String!, $manifestType: ArtifactManifestType!, $includeUpload: Boolean!) {
  createArtifactManifest(input: {artifactID:$artifactID,baseArtifactID:$baseArtifactID,name:$name,digest:$digest,entityName:$entityName,projectName:$projectName,runName:$runName,type:$manifestType}) {
    artifactManifest { id file { id uploadUrl @include(if: $includeUpload) uploadHeaders @include(if: $includeUpload) } } } }`;
const FILES = `mutation CreateArtifactFiles ($input: CreateArtifactFilesInput!) { createArtifactFiles(input: $input) { files { edges { node { storagePath uploadUrl uploadHeaders artifact { id } } } } } }`;
const COMMIT = `mutation CommitArtifact ($artifactID: ID!) { commitArtifact(input: {artifactID:$artifactID}) { artifact { id digest } } }`;
const BY_NAME = `query ArtifactMembershipByName($entity: String!, $project: String!, $name: String!) { project(name: $project, entityName: $entity) {
  artifactCollectionMembership(name: $name) { versionIndex aliases { alias } artifact { id versionIndex state size fileCount digest metadata } } } }`;
const FILE_URLS = `query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!, $alias: String!) { project(name: $project, entityName: $entity) {
  artifactCollection(name: $collection) { __typename artifactMembership(aliasName: $alias) { files { pageInfo { endCursor hasNextPage } edges { node { __typename name directUrl } } } } } } }`;

const VERSIONS = `query ProjectArtifacts($entity: String!, $project: String!, $type: String!, $collection: String!, $cursor: String, $perPage: Int = 50) {
  project(entityName: $entity, name: $project) { artifactType(name: $type) { artifactCollection(name: $collection) { __typename
    artifacts(after: $cursor, first: $perPage) { totalCount pageInfo { endCursor hasNextPage } edges { version node { id versionIndex } } } } } } }`;
const RUN_ARTIFACTS = (field: string) => `query RunArtifacts($entity: String!, $project: String!, $run: String!) { project(entityName: $entity, name: $project) { run(name: $run) {
  artifacts: ${field} { totalCount edges { node { id versionIndex } } } } } }`;
const USE = `mutation UseArtifact($entityName: String!, $projectName: String!, $runName: String!, $artifactID: ID!) { useArtifact(input: {entityName: $entityName, projectName: $projectName, runName: $runName, artifactID: $artifactID}) { artifact { id } } }`;
const DELETE = `mutation DeleteArtifact($input: DeleteArtifactInput!) { result: deleteArtifact(input: $input) { artifact { id } } }`;

const LINK = `mutation LinkArtifact($input: LinkArtifactInput!) { result: linkArtifact(input: $input) { versionIndex } }`;
const ADD_ALIASES = `mutation AddAliases($input: AddAliasesInput!) { result: addAliases(input: $input) { success } }`;
const DELETE_ALIASES = `mutation DeleteAliases($input: DeleteAliasesInput!) { result: deleteAliases(input: $input) { success } }`;
const UPDATE = `mutation UpdateArtifact($input: UpdateArtifactInput!) { result: updateArtifact(input: $input) { artifact { id description metadata } } }`;

const S = runIdSuffix();
let t: TestApp;
let w: Client;

const md5 = (s: string) => createHash('md5').update(s).digest('base64');
const path = (url: string) => new URL(url).pathname;

/** Logs `files` as artifact `name` in `project` the way wandb-core does; returns the artifact id. */
async function logArtifact(project: string, run: string, name: string, files: Record<string, string>, aliases: string[] = [], refs: Record<string, string> = {}, base?: string) {
  const contents: Record<string, { digest: string; size: number; ref?: string }> = Object.fromEntries(Object.entries(files).map(([p, body]) => [p, { digest: md5(body), size: body.length }]));
  for (const [p, ref] of Object.entries(refs)) contents[p] = { digest: `etag-${p}`, size: 7, ref };
  const digest = createHash('md5').update(JSON.stringify(contents)).digest('hex');
  const created = await w.gql(CREATE, {
    input: { artifactTypeName: 'dataset', artifactCollectionNames: [name], entityName: 'alice', projectName: project, runName: run, digest, digestAlgorithm: 'MANIFEST_MD5', aliases: aliases.map((alias) => ({ alias, artifactCollectionName: name })), metadata: '{"k": 1}' },
  });
  expect(created.body.errors).toBeUndefined();
  const art = created.body.data.createArtifact.artifact;
  if (art.state === 'COMMITTED') return { id: art.id as string, deduped: true };
  const manifestType = base ? 'INCREMENTAL' : 'FULL';
  const manifest = await w.gql(MANIFEST, { artifactID: art.id, baseArtifactID: base, name: 'wandb_manifest.json', digest, entityName: 'alice', projectName: project, runName: run, manifestType, includeUpload: true });
  expect(manifest.body.errors).toBeUndefined();
  const specs = Object.entries(files).map(([p, body]) => ({ artifactID: art.id, name: p, md5: md5(body) }));
  const urls = await w.gql(FILES, { input: { storageLayout: 'V2', artifactFiles: specs } });
  expect(urls.body.errors).toBeUndefined();
  for (const [i, e] of (urls.body.data.createArtifactFiles.files.edges as { node: { uploadUrl: string | null } }[]).entries()) {
    if (e.node.uploadUrl) expect((await t.api.put(path(e.node.uploadUrl)).send(Object.values(files)[i])).status).toBe(200);
  }
  const manifestBody = JSON.stringify({ version: 1, storagePolicy: 'wandb-storage-policy-v1', storagePolicyConfig: { storageLayout: 'V2' }, contents });
  const manifestUrl = path(manifest.body.data.createArtifactManifest.artifactManifest.file.uploadUrl);
  expect((await t.api.put(manifestUrl).send(manifestBody)).status).toBe(200);
  // The manifest URL works once: a replay must not swap the manifest before the commit.
  const replay = await t.api.put(manifestUrl).send(JSON.stringify({ version: 1, contents: {} }));
  expect(replay.status).toBe(403);
  const commit = await w.gql(COMMIT, { artifactID: art.id });
  return { id: art.id as string, deduped: false, commitError: commit.body.errors?.[0].message as string | undefined };
}

// Once per blob store: the local folder, and S3 when CAIRN_TEST_S3_ENDPOINT is set.
describe.each(artifactBackends())('W&B artifacts on $name', (backend) => {
  beforeAll(async () => {
    t = await startArtifactApp(backend);
    w = wandbClient(t, await newKey(t, 'alice'));
  });
  afterAll(() => t.close());

  it('numbers versions, dedups equal contents, moves latest and serves the files by signed URL', async () => {
    const project = uniqueName('art');
    const run = `art001-${S}`;
    await w.upsert({ name: run, project });
    const v0 = await logArtifact(project, run, 'data', { 'a.txt': 'alpha', 'dir/b.txt': 'beta' }, ['best']);
    const again = await logArtifact(project, run, 'data', { 'a.txt': 'alpha', 'dir/b.txt': 'beta' });
    expect(again).toEqual({ id: v0.id, deduped: true });
    expect(v0.commitError).toBeUndefined();
    const v1 = await logArtifact(project, run, 'data', { 'a.txt': 'alpha', 'dir/b.txt': 'beta 2' });
    expect(v1.id).not.toBe(v0.id);

    const read = async (name: string) => (await w.gql(BY_NAME, { entity: 'alice', project, name })).body.data.project.artifactCollectionMembership;
    expect((await read('data:latest')).artifact).toMatchObject({ id: v1.id, versionIndex: 1, state: 'COMMITTED', fileCount: 2, size: 11, metadata: '{"k": 1}' });
    expect((await read('data:v0')).artifact.id).toBe(v0.id);
    expect((await read('data:best')).aliases.map((a: { alias: string }) => a.alias)).toEqual(['best']);
    expect(await read('data:v7')).toBeNull();
    expect(await read('nothing:latest')).toBeNull();

    const urls = await w.gql(FILE_URLS, { entity: 'alice', project, collection: 'data', alias: 'v1' });
    const coll = urls.body.data.project.artifactCollection;
    expect(coll.__typename).toBe('ArtifactSequence');
    const nodes = coll.artifactMembership.files.edges.map((e: { node: { name: string; directUrl: string } }) => e.node);
    expect(nodes.map((n: { name: string }) => n.name)).toEqual(['a.txt', 'dir/b.txt']);
    const body = await t.api.get(path(nodes[1].directUrl)).buffer(true);
    expect(Buffer.from(body.body).toString()).toBe('beta 2');
  });

  it('refuses artifact names with / or .., an upload whose bytes differ from its MD5, and a commit without a manifest', async () => {
    const project = uniqueName('artbad');
    for (const name of ['a/b', '..', 'x..y', 'a:b']) {
      const res = await w.gql(CREATE, { input: { artifactTypeName: 'dataset', artifactCollectionNames: [name], entityName: 'alice', projectName: project, digest: '0'.repeat(32) } });
      expect(res.body.errors?.[0].message, name).toMatch(/Invalid artifact name/);
    }
    const created = await w.gql(CREATE, { input: { artifactTypeName: 'dataset', artifactCollectionNames: ['ok'], entityName: 'alice', projectName: project, digest: '1'.repeat(32) } });
    const id = created.body.data.createArtifact.artifact.id;
    const urls = await w.gql(FILES, { input: { storageLayout: 'V2', artifactFiles: [{ artifactID: id, name: 'x', md5: md5('right') }] } });
    const url = path(urls.body.data.createArtifactFiles.files.edges[0].node.uploadUrl);
    const bad = await t.api.put(url).send('wrong');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/Digest mismatch/);
    const commit = await w.gql(COMMIT, { artifactID: id });
    expect(commit.body.errors?.[0].message).toMatch(/no uploaded manifest/);
  });

  it('lists versions newest first by page, records lineage both ways, and deletes a version', async () => {
    const project = uniqueName('artlist');
    const producer = `art004-${S}`;
    const consumer = `art005-${S}`;
    await w.upsert({ name: producer, project });
    await w.upsert({ name: consumer, project });
    const ids = [];
    for (const body of ['one', 'two', 'three']) ids.push((await logArtifact(project, producer, 'ds', { 'f.txt': body }, body === 'two' ? ['keep'] : [])).id);
    const vars = { entity: 'alice', project, type: 'dataset', collection: 'ds' };
    const p1 = (await w.gql(VERSIONS, { ...vars, perPage: 2 })).body.data.project.artifactType.artifactCollection.artifacts;
    expect(p1.totalCount).toBe(3);
    expect(p1.edges.map((e: { version: string }) => e.version)).toEqual(['v2', 'v1']);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await w.gql(VERSIONS, { ...vars, perPage: 2, cursor: p1.pageInfo.endCursor })).body.data.project.artifactType.artifactCollection.artifacts;
    expect(p2.edges.map((e: { version: string }) => e.version)).toEqual(['v0']);
    expect((await w.gql(VERSIONS, { ...vars, type: 'model' })).body.data.project.artifactType.artifactCollection).toBeNull();

    expect((await w.gql(USE, { entityName: 'alice', projectName: project, runName: consumer, artifactID: ids[0] })).body.errors).toBeUndefined();
    const runArtifacts = async (field: string, run: string) =>
      (await w.gql(RUN_ARTIFACTS(field), { entity: 'alice', project, run })).body.data.project.run.artifacts.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(await runArtifacts('outputArtifacts', producer)).toEqual(ids);
    expect(await runArtifacts('inputArtifacts', consumer)).toEqual([ids[0]]);
    expect(await runArtifacts('outputArtifacts', consumer)).toEqual([]);

    const refused = await w.gql(DELETE, { input: { artifactID: ids[1] } });
    expect(refused.body.errors?.[0].message).toMatch(/has aliases \(keep\)/);
    expect((await w.gql(DELETE, { input: { artifactID: ids[2] } })).body.errors).toBeUndefined();
    const read = async (name: string) => (await w.gql(BY_NAME, { entity: 'alice', project, name })).body.data.project.artifactCollectionMembership;
    expect((await read('ds:latest')).artifact.id).toBe(ids[1]);
    expect(await read('ds:v2')).toBeNull();
    expect((await w.gql(VERSIONS, vars)).body.data.project.artifactType.artifactCollection.artifacts.totalCount).toBe(2);
    // A new version after a deletion takes the next number: v2 is not reused.
    await logArtifact(project, producer, 'ds', { 'f.txt': 'four' });
    expect((await read('ds:latest')).artifact.versionIndex).toBe(3);
  });

  it('edits aliases, description and metadata of a committed version; latest stays the server’s', async () => {
    const project = uniqueName('artedit');
    const run = `art006-${S}`;
    await w.upsert({ name: run, project });
    const v0 = (await logArtifact(project, run, 'm', { 'w.bin': 'weights 0' }, ['best'])).id;
    const v1 = (await logArtifact(project, run, 'm', { 'w.bin': 'weights 1' })).id;
    const alias = (a: string) => ({ alias: a, artifactCollectionName: 'm', entityName: 'alice', projectName: project });
    expect((await w.gql(ADD_ALIASES, { input: { artifactID: v1, aliases: [alias('best')] } })).body.errors).toBeUndefined();
    const read = async (name: string) => (await w.gql(BY_NAME, { entity: 'alice', project, name })).body.data.project.artifactCollectionMembership;
    expect((await read('m:best')).artifact.id).toBe(v1);
    // Removing an alias another version holds changes nothing.
    await w.gql(DELETE_ALIASES, { input: { artifactID: v0, aliases: [alias('best')] } });
    expect((await read('m:best')).artifact.id).toBe(v1);
    await w.gql(DELETE_ALIASES, { input: { artifactID: v1, aliases: [alias('best')] } });
    expect(await read('m:best')).toBeNull();
    for (const bad of ['latest', 'v3', 'a/b']) {
      const res = await w.gql(ADD_ALIASES, { input: { artifactID: v0, aliases: [alias(bad)] } });
      expect(res.body.errors?.[0].message, bad).toMatch(/latest|version|Invalid alias/);
    }
    const updated = await w.gql(UPDATE, { input: { artifactID: v0, description: 'first', metadata: '{"acc": 0.5}' } });
    expect(updated.body.data.result.artifact).toMatchObject({ description: 'first', metadata: '{"acc": 0.5}' });
    expect((await w.gql(UPDATE, { input: { artifactID: v0, metadata: '[1]' } })).body.errors?.[0].message).toMatch(/JSON object/);
    // Tags and the TTL: stored, reported as W&B reports them, refused when malformed (nothing changes then).
    const TAGGED = `mutation UpdateArtifact($input: UpdateArtifactInput!) { result: updateArtifact(input: $input) { artifact { tags { name } ttlDurationSeconds ttlIsInherited } } }`;
    const tagged = await w.gql(TAGGED, { input: { artifactID: v0, tagsToAdd: [{ tagName: 't' }, { tagName: 'u v' }], ttlDurationSeconds: 3600 } });
    expect(tagged.body.data.result.artifact).toEqual({ tags: [{ name: 't' }, { name: 'u v' }], ttlDurationSeconds: 3600, ttlIsInherited: false });
    for (const input of [{ tagsToAdd: [{ tagName: 'a/b' }], ttlDurationSeconds: -2 }, { tagsToDelete: [{ tagName: 't' }], ttlDurationSeconds: 0 }]) {
      const res = await w.gql(TAGGED, { input: { artifactID: v0, ...input } });
      expect(res.body.errors?.[0].message, JSON.stringify(input)).toMatch(/Invalid tag|Invalid ttlDurationSeconds/);
    }
    const inherited = await w.gql(TAGGED, { input: { artifactID: v0, tagsToDelete: [{ tagName: 't' }], ttlDurationSeconds: -1 } });
    expect(inherited.body.data.result.artifact).toEqual({ tags: [{ name: 'u v' }], ttlDurationSeconds: -1, ttlIsInherited: true });
  });

  it('keeps references with their URI, merges an incremental manifest with its base, and refuses schemes the client cannot load', async () => {
    const project = uniqueName('artref');
    const run = `art007-${S}`;
    await w.upsert({ name: run, project });
    const ok = await logArtifact(project, run, 'r', { 'a.txt': 'alpha' }, [], { 'remote.txt': 's3://bucket/key.txt', 'web.txt': 'https://example.com/w.txt' });
    expect(ok.commitError).toBeUndefined();
    const urls = await w.gql(FILE_URLS, { entity: 'alice', project, collection: 'r', alias: 'latest' });
    const nodes = urls.body.data.project.artifactCollection.artifactMembership.files.edges.map((e: { node: { name: string; directUrl: string } }) => e.node);
    expect(nodes.map((n: { name: string }) => n.name)).toEqual(['a.txt', 'remote.txt', 'web.txt']);
    // A reference's URL is where it points; the client loads it with its own handler.
    expect(nodes.slice(1).map((n: { directUrl: string }) => n.directUrl)).toEqual(['s3://bucket/key.txt', 'https://example.com/w.txt']);
    // An incremental manifest holds only the changes; the commit adds its base's entries.
    const grown = await logArtifact(project, run, 'r', { 'b.txt': 'beta' }, [], {}, ok.id);
    expect(grown.commitError).toBeUndefined();
    const v1 = await w.gql(FILE_URLS, { entity: 'alice', project, collection: 'r', alias: 'v1' });
    expect(v1.body.data.project.artifactCollection.artifactMembership.files.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['a.txt', 'b.txt', 'remote.txt', 'web.txt']);
    const bad = await logArtifact(project, run, 'r', {}, [], { 'x.txt': 'ftp://example.com/x' });
    expect(bad.commitError).toMatch(/unsupported reference 'ftp:/);
    expect((await w.gql(BY_NAME, { entity: 'alice', project, name: 'r:v2' })).body.data.project.artifactCollectionMembership).toBeNull();
  });

  it('links versions into a portfolio with its own numbers and aliases, and copies stored files to the logging run for MLflow', async () => {
    const project = uniqueName('artlink');
    const registry = uniqueName('registry');
    // Per backend: both share one database on Postgres, and the MLflow run id is the W&B one only while it is free.
    const run = `art008-${backend.name}-${S}`;
    await w.upsert({ name: run, project });
    const v0 = (await logArtifact(project, run, 'm', { 'w.bin': 'weights 0' }, ['best'])).id;
    const v1 = (await logArtifact(project, run, 'm', { 'w.bin': 'weights 1' })).id;
    const link = async (id: string, name: string, aliases: string[] = []) =>
      w.gql(LINK, { input: { artifactID: id, artifactPortfolioName: name, entityName: 'alice', projectName: registry, aliases: aliases.map((alias) => ({ alias, artifactCollectionName: name })) } });
    expect((await link(v0, 'reg', ['staging'])).body.data.result.versionIndex).toBe(0);
    expect((await link(v1, 'reg')).body.data.result.versionIndex).toBe(1);
    expect((await link(v0, 'reg')).body.data.result.versionIndex).toBe(0); // linking again keeps the number
    const read = async (p: string, name: string) => (await w.gql(BY_NAME, { entity: 'alice', project: p, name })).body.data.project.artifactCollectionMembership;
    expect(await read(registry, 'reg:latest')).toMatchObject({ versionIndex: 1, artifact: { id: v1, versionIndex: 1 } });
    expect(await read(registry, 'reg:staging')).toMatchObject({ versionIndex: 0, aliases: [{ alias: 'staging' }], artifact: { id: v0 } });
    expect((await read(project, 'm:v0')).aliases).toEqual([{ alias: 'best' }]);
    // A collection of logged versions is not a portfolio.
    const wrong = await w.gql(LINK, { input: { artifactID: v1, artifactPortfolioName: 'm', entityName: 'alice', projectName: project } });
    expect(wrong.body.errors?.[0].message).toMatch(/holds logged versions/);

    const listed = await t.api.get(`/api/2.0/mlflow/artifacts/list?run_id=${run}&path=wandb-artifacts/m/v1`);
    expect(listed.status).toBe(200);
    expect(listed.body.files).toEqual([{ path: 'wandb-artifacts/m/v1/w.bin', is_dir: false, file_size: 9 }]);
  });
});
