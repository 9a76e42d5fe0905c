// Teams (issue 17, docs/teams.md) with `--app-name basic-auth`: who may change a team, how team
// roles become permissions on the team's projects for W&B and MLflow calls, and that refused
// calls write nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { basicAuth } from '../harness/basic-auth.js';
import { UPSERT_BUCKET } from '../integration/wandb-helpers.js';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const wandbAuth = (key: string) => `Basic ${Buffer.from(`api:${key}`).toString('base64')}`;
const ADMIN = uniqueName('admin');
const admin = basicAuth(ADMIN, ADMIN_PASSWORD);
const names = { alice: uniqueName('alice'), bob: uniqueName('bob'), carol: uniqueName('carol'), dave: uniqueName('dave') };
type Who = keyof typeof names;
const as = (u: Who) => basicAuth(names[u], `${u}-pw`);
const keys: Partial<Record<Who, string>> = {};
const team = uniqueName('team');
const project = uniqueName('teamproj');
let t: TestApp;

async function post(url: string, auth: string, body: unknown) {
  return t.api.post(url).set('Authorization', auth).send(body as object);
}
async function gql(who: Who, query: string, variables: Record<string, unknown> = {}) {
  return post('/graphql', wandbAuth(keys[who]!), { query, variables });
}
const upsert = (who: Who, name: string) => gql(who, UPSERT_BUCKET, { name, project, entity: team });
const MEMBERS = 'query GetTeamEntity($name: String!) { entity(name: $name) { isTeam available members { username admin role } } }';

beforeAll(async () => {
  t = await startTestApp(['--app-name', 'basic-auth', '--auth-default-permission', 'READ'], {
    env: { MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD, CAIRN_AUTH_ADMIN_USERNAME: ADMIN },
  });
  for (const u of Object.keys(names) as Who[]) {
    expect((await post('/api/2.0/mlflow/users/create', admin, { username: names[u], password: `${u}-pw` })).status).toBe(200);
    keys[u] = (await post('/api/2.0/cairn/keys/create', as(u), {})).body.key;
  }
});
afterAll(async () => t?.close());

describe('teams', () => {
  it('are created by anyone, who becomes admin; names are unique across accounts and teams', async () => {
    const made = await gql('alice', 'mutation($n: String!) { createTeam(input: {teamName: $n}) { entity { name available } } }', { n: team });
    expect(made.body).toEqual({ data: { createTeam: { entity: { name: team, available: false } } } });
    expect((await post('/api/2.0/cairn/teams/create', as('bob'), { name: team })).body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
    expect((await post('/api/2.0/cairn/teams/create', as('bob'), { name: names.carol })).body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
    expect((await post('/api/2.0/mlflow/users/create', admin, { username: team, password: 'x' })).body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
    // Only a server admin may name someone else the first admin.
    expect((await post('/api/2.0/cairn/teams/create', as('bob'), { name: uniqueName('t'), admin: names.carol })).status).toBe(403);
  });

  it('members are set by team admins only, with a valid role', async () => {
    const invite = 'mutation($e: String!, $u: String, $a: Boolean) { createInvite(input: {entityName: $e, username: $u, admin: $a}) { invite { name } } }';
    expect((await gql('alice', invite, { e: team, u: names.bob })).body.data.createInvite.invite.name).toBe(names.bob);
    // bob (member) may not invite.
    const refused = await gql('bob', invite, { e: team, u: names.dave });
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0].message).toContain(`only an admin of team '${team}'`);
    expect((await post('/api/2.0/cairn/teams/members/set', as('alice'), { team, username: names.carol, role: 'boss' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect((await post('/api/2.0/cairn/teams/members/set', as('alice'), { team, username: names.carol, role: 'viewer' })).status).toBe(200);
    const seen = await gql('bob', MEMBERS, { name: team });
    expect(seen.body.data.entity).toEqual({
      isTeam: true,
      available: false,
      members: [
        { username: names.alice, admin: true, role: 'admin' },
        { username: names.bob, admin: false, role: 'member' },
        { username: names.carol, admin: false, role: 'viewer' },
      ].sort((a, b) => a.username.localeCompare(b.username)),
    });
    // A non-member sees no members.
    expect((await gql('dave', MEMBERS, { name: team })).body.data.entity.members).toEqual([]);
    expect((await gql('carol', 'query { viewer { teams { edges { node { name } } } } }')).body.data.viewer.teams.edges).toEqual([{ node: { name: team } }]);
    // The last admin cannot leave.
    expect((await post('/api/2.0/cairn/teams/members/remove', as('alice'), { team, username: names.alice })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('roles are permissions on the team project: member logs, viewer reads, non-member is refused, nothing written', async () => {
    expect((await upsert('alice', 'r-alice')).body.data.upsertBucket.inserted).toBe(true);
    expect((await upsert('bob', 'r-bob')).body.data.upsertBucket.inserted).toBe(true);
    const viewer = await upsert('carol', 'r-carol');
    expect(viewer.status).toBe(403);
    expect(viewer.body.errors[0].message).toContain('you are a viewer');
    const stranger = await upsert('dave', 'r-dave');
    expect(stranger.status).toBe(403);
    expect(stranger.body.errors[0].message).toContain(`is not a member of team '${team}'`);

    const exp = (await t.api.get('/api/2.0/mlflow/experiments/get-by-name').set('Authorization', as('carol')).query({ experiment_name: project })).body.experiment;
    const search = await post('/api/2.0/mlflow/runs/search', as('carol'), { experiment_ids: [exp.experiment_id] });
    expect(search.body.runs).toHaveLength(2); // alice's and bob's: the refused upserts wrote nothing
    // MLflow: bob (member → EDIT) creates a run; carol (viewer → READ) may not; bob may not delete (MANAGE).
    const made = await post('/api/2.0/mlflow/runs/create', as('bob'), { experiment_id: exp.experiment_id });
    expect(made.status).toBe(200);
    expect((await post('/api/2.0/mlflow/runs/create', as('carol'), { experiment_id: exp.experiment_id })).status).toBe(403);
    expect((await post('/api/2.0/mlflow/runs/delete', as('bob'), { run_id: made.body.run.info.run_id })).status).toBe(403);
    expect((await post('/api/2.0/mlflow/runs/delete', as('alice'), { run_id: made.body.run.info.run_id })).status).toBe(200);
    // api.projects(team): dave is no member, but the server's default (READ) lets him read it.
    expect((await gql('dave', 'query($e: String) { models(entityName: $e) { edges { node { name } } } }', { e: team })).body.data.models.edges).toEqual([{ node: { name: project } }]);
  });

  it('deleteRun needs MANAGE and marks the MLflow run deleted', async () => {
    const runId = (await gql('alice', `query($p: String, $e: String) { project(name: $p, entityName: $e) { run(name: "r-bob") { id } } }`, { p: project, e: team })).body.data.project.run.id;
    const del = 'mutation($id: ID!) { deleteRun(input: {id: $id}) { clientMutationId } }';
    expect((await gql('bob', del, { id: runId })).status).toBe(403);
    expect((await gql('alice', del, { id: runId })).body).toEqual({ data: { deleteRun: { clientMutationId: null } } });
    const left = await gql('alice', `query($p: String, $e: String) { project(name: $p, entityName: $e) { runs { edges { node { name } } } } }`, { p: project, e: team });
    expect(left.body.data.project.runs.edges).toEqual([{ node: { name: 'r-alice' } }]);
    expect((await gql('alice', del, { id: runId })).body.errors[0].message).toContain('not found');
  });

  it('a member may leave; the admin removes others', async () => {
    const memberId = Buffer.from(`User:${names.carol}`).toString('base64');
    const leave = 'mutation($id: String, $e: String) { deleteInvite(input: {id: $id, entityName: $e}) { success } }';
    expect((await gql('bob', leave, { id: memberId, e: team })).status).toBe(403);
    expect((await gql('carol', leave, { id: memberId, e: team })).body).toEqual({ data: { deleteInvite: { success: true } } });
    const list = await t.api.get('/api/2.0/cairn/teams/list').set('Authorization', as('carol'));
    expect(list.body).toEqual({ teams: [] });
  });
});
