import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { runIdSuffix, startWandbApp, type Client } from './wandb-helpers.js';

// Artifact collections edited the way wandb/apis/public/artifacts.py edits them, and the refusals
// that the real client cannot provoke (test/compat/artifacts/test_wandb_artifact_meta.py has the
// client's flow): a rename onto a taken name, a malformed ID, bad tags, the Registry lookup.

const CREATE = `mutation CreateArtifact($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id artifactSequence { id } } } }`;
const LIST = `query ProjectArtifactCollections($entity: String!, $project: String!) { project(entityName: $entity, name: $project) {
  artifactCollections { totalCount edges { node { __typename name description state type: defaultArtifactType { name } tags { edges { node { name } } } } } } } }`;
const UPDATE = `mutation UpdateArtifactSequence($input: UpdateArtifactSequenceInput!) { result: updateArtifactSequence(input: $input) { artifactCollection { name description } } }`;
const ADD_TAGS = `mutation AddArtifactCollectionTags($input: CreateArtifactCollectionTagAssignmentsInput!) { result: createArtifactCollectionTagAssignments(input: $input) { tags { name } } }`;
const DELETE = `mutation DeleteArtifactSequence($id: ID!) { result: deleteArtifactSequence(input: {artifactSequenceID: $id}) { artifactCollection { __typename state } } }`;
const ORG = `query FetchOrgInfoFromEntity($entity: String!) { entity(name: $entity) { organization { name orgEntity { name } } user { organizations { name orgEntity { name } } } } }`;

const S = runIdSuffix();
let t: TestApp;
let w: Client;

beforeAll(async () => {
  ({ t, w } = await startWandbApp('alice'));
});
afterAll(async () => {
  await t.close();
});

describe('W&B artifact collections', () => {
  it('lists, renames, describes, tags and deletes collections, refusing what is malformed', async () => {
    const project = uniqueName('artcol');
    await w.upsert({ name: `col-${S}`, project });
    const ids: Record<string, string> = {};
    for (const name of ['one', 'two']) {
      const res = await w.gql(CREATE, { input: { artifactTypeName: 'dataset', artifactCollectionNames: [name], entityName: 'alice', projectName: project, digest: `${name}0`.padEnd(32, '0') } });
      ids[name] = res.body.data.createArtifact.artifact.artifactSequence.id;
    }
    const list = async () => (await w.gql(LIST, { entity: 'alice', project })).body.data.project.artifactCollections;
    expect((await list()).edges.map((e: { node: { name: string } }) => e.node)).toEqual([
      { __typename: 'ArtifactSequence', name: 'one', description: null, state: 'READY', type: { name: 'dataset' }, tags: { edges: [] } },
      { __typename: 'ArtifactSequence', name: 'two', description: null, state: 'READY', type: { name: 'dataset' }, tags: { edges: [] } },
    ]);

    const renamed = await w.gql(UPDATE, { input: { artifactSequenceID: ids.one, name: 'uno', description: 'first' } });
    expect(renamed.body.data.result.artifactCollection).toEqual({ name: 'uno', description: 'first' });
    expect((await w.gql(UPDATE, { input: { artifactSequenceID: ids.one, name: 'two' } })).body.errors?.[0].message).toMatch(/already exists/);
    expect((await w.gql(UPDATE, { input: { artifactSequenceID: ids.one, name: 'a/b' } })).body.errors?.[0].message).toMatch(/Invalid artifact name/);
    expect((await w.gql(UPDATE, { input: { artifactSequenceID: 'bm90IGFuIGlk' } })).body.errors?.[0].message).toMatch(/Invalid artifact collection ID/);

    const tag = (tags: string[], name = 'uno') => w.gql(ADD_TAGS, { input: { entityName: 'alice', projectName: project, artifactCollectionName: name, tags: tags.map((tagName) => ({ tagName })) } });
    expect((await tag(['gold', 'gold'])).body.data.result.tags).toEqual([{ name: 'gold' }]);
    expect((await tag(['no/slash'])).body.errors?.[0].message).toMatch(/Invalid tag/);
    expect((await tag(['x'], 'nothing')).body.errors?.[0].message).toMatch(/not found/);

    expect((await w.gql(DELETE, { id: ids.two })).body.data.result.artifactCollection).toEqual({ __typename: 'ArtifactSequence', state: 'DELETED' });
    const after = await list();
    expect(after.totalCount).toBe(1);
    expect(after.edges[0].node).toMatchObject({ name: 'uno', description: 'first', tags: { edges: [{ node: { name: 'gold' } }] } });
  });

  it("answers the client's organization lookup (the W&B Registry) with Cairn's refusal", async () => {
    const res = await w.gql(ORG, { entity: 'alice' });
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/The W&B Registry .* is not implemented by Cairn/);
  });
});
