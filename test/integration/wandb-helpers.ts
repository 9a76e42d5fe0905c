import { createApiKey } from '../../src/domain/wandb/api-keys.js';
import { startTestApp, type TestApp } from '../harness/app.js';

// The documents below are the literal ones wandb==0.31.0 sends (captured from its traffic and read
// from wandb-core's generated client and wandb/apis/public/runs.py).

export const VIEWER = 'query Viewer { viewer { id entity username email flags teams { edges { node { name } } } } }';
export const SERVER_FEATURES = 'query ServerFeaturesQuery { serverInfo { features { name isEnabled } } }';
export const UPSERT_BUCKET = `mutation UpsertBucket ($id: String, $name: String, $project: String, $entity: String, $groupName: String, $description: String, $displayName: String, $notes: String, $commit: String, $config: JSONString, $host: String, $debug: Boolean, $program: String, $repo: String, $jobType: String, $state: String, $sweep: String, $tags: [String!], $summaryMetrics: JSONString) { upsertBucket(input: {id:$id,name:$name,groupName:$groupName,modelName:$project,entityName:$entity,description:$description,displayName:$displayName,notes:$notes,config:$config,commit:$commit,host:$host,debug:$debug,jobProgram:$program,jobRepo:$repo,jobType:$jobType,state:$state,sweep:$sweep,tags:$tags,summaryMetrics:$summaryMetrics}) { bucket { id name displayName description config sweepName project { id name entity { id name } } historyLineCount } inserted } }`;
export const CREATE_RUN_FILES = `mutation CreateRunFiles ($entity: String!, $project: String!, $run: String!, $files: [String!]!) { createRunFiles(input: {entityName:$entity,projectName:$project,runName:$run,files:$files}) { runID uploadHeaders files { name uploadUrl } } }`;
export const RUN_RESUME_STATUS = `query RunResumeStatus ($project: String, $entity: String, $name: String!) { model(name: $project, entityName: $entity) { id name entity { id name } bucket(name: $name, missingOk: true) { id name summaryMetrics displayName logLineCount historyLineCount eventsLineCount historyTail eventsTail config tags notes wandbConfig(keys: ["t"]) } } }`;
export const ORG_COREWEAVE = 'query OrganizationCoreWeaveOrganizationID ($entityName: String!) { entity(name: $entityName) { organization { coreWeaveOrganizationId } } }';
export const GET_DEFAULT_ENTITY = 'query GetDefaultEntity { viewer { id entity } }';
export const GET_VIEWER = `query GetViewer { viewer { ...UserFragment } }
fragment ApiKeyFragment on ApiKey { id name description }
fragment UserFragment on User { id name username email admin flags entity deletedAt apiKeys { edges { node { ...ApiKeyFragment } } } teams { edges { node { name } } } }`;

const LIGHTWEIGHT_RUN_FRAGMENT = `fragment LightweightRunFragment on Run { id tags name displayName sweepName state group jobType commit readOnly createdAt heartbeatAt description notes historyLineCount user { name username } }`;
const RUN_FRAGMENT = `fragment RunFragment on Run { id tags name displayName sweepName state config group jobType commit readOnly createdAt heartbeatAt description notes systemMetrics summaryMetrics historyLineCount user { name username } historyKeys }`;
export const RUNS = `#graphql
query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50, $order: String, $filters: JSONString) {
  project(name: $project, entityName: $entity) { internalId runCount(filters: $filters) readOnly
    runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
      edges { node { projectId ...LightweightRunFragment } cursor } pageInfo { endCursor hasNextPage } } } }
${LIGHTWEIGHT_RUN_FRAGMENT}`;
export const RUN = `#graphql
query Run($project: String!, $entity: String!, $name: String!) { project(name: $project, entityName: $entity) { run(name: $name) { projectId ...RunFragment } } }
${RUN_FRAGMENT}`;
export const RUN_FULL_HISTORY = `query RunFullHistory($project: String!, $entity: String!, $name: String!, $samples: Int) { project(name: $project, entityName: $entity) { run(name: $name) { history(samples: $samples) } } }`;
export const RUN_EVENTS = `query RunFullHistory($project: String!, $entity: String!, $name: String!, $samples: Int) { project(name: $project, entityName: $entity) { run(name: $name) { events(samples: $samples) } } }`;
export const RUN_SAMPLED_HISTORY = `query RunSampledHistory($project: String!, $entity: String!, $name: String!, $specs: [JSONString!]!) { project(name: $project, entityName: $entity) { run(name: $name) { sampledHistory(specs: $specs) } } }`;
export const RUN_HISTORY_KEYS = `query RunHistoryKeys($project: String!, $entity: String!, $name: String!) { project(name: $project, entityName: $entity) { run(name: $name) { historyKeys } } }`;
export const HISTORY_PAGE = `query HistoryPage ($entity: String!, $project: String!, $run: String!, $minStep: Int64!, $maxStep: Int64!, $pageSize: Int!) { project(name: $project, entityName: $entity) { run(name: $run) { history(minStep: $minStep, maxStep: $maxStep, samples: $pageSize) } } }`;
export const SAMPLED_HISTORY_PAGE = `query SampledHistoryPage ($entity: String!, $project: String!, $run: String!, $spec: JSONString!) { project(name: $project, entityName: $entity) { run(name: $run) { sampledHistory(specs: [$spec]) } } }`;
export const RUN_PARQUET_HISTORY = `query RunParquetHistory ($entity: String!, $project: String!, $runName: String!, $liveKeys: [String!]!) { project(name: $project, entityName: $entity) { run(name: $runName) { parquetHistory(liveKeys: $liveKeys) { parquetUrls liveData } } } }`;
export const RUN_STATE = `query RunState ($entity: String!, $project: String!, $run: String!) { project(name: $project, entityName: $entity) { run(name: $run) { id state } } }`;

// wandb/apis/public/files.py's RunFiles document, verbatim in what it asks.
export const RUN_FILES = `#graphql
query RunFiles($project: String!, $entity: String!, $name: String!, $fileCursor: String,
    $fileLimit: Int = 50, $fileNames: [String] = [], $upload: Boolean = false, $pattern: String) {
  project(name: $project, entityName: $entity) { internalId run(name: $name) { fileCount ...RunFilesFragment } } }
fragment RunFilesFragment on Run {
  files(names: $fileNames, after: $fileCursor, first: $fileLimit, pattern: $pattern) {
    edges { node { id name url(upload: $upload) directUrl sizeBytes mimetype updatedAt md5 } cursor }
    pageInfo { endCursor hasNextPage } } }`;

export const basic = (key: string) => `Basic ${Buffer.from(`api:${key}`).toString('base64')}`;

export async function newKey(t: TestApp, user = 'alice'): Promise<string> {
  return (await createApiKey(t.deps.db, user, Date.now())).key;
}

/** Run ids are unique per test run: a Postgres test database outlives it. */
export const runIdSuffix = () => `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A suite's app with a wandb client signed in as `user`, for its beforeAll. */
export async function startWandbApp(user = 'alice'): Promise<{ t: TestApp; w: Client; key: string }> {
  const t = await startTestApp();
  const key = await newKey(t, user);
  return { t, w: wandbClient(t, key), key };
}

export interface Client {
  gql(query: string, variables?: Record<string, unknown>, operationName?: string | null): Promise<{ status: number; body: { data?: any; errors?: { message: string }[] } }>;
  stream(project: string, run: string, body: unknown, entity?: string): Promise<{ status: number; body: any }>;
  upsert(vars: Record<string, unknown>): Promise<any>;
}

/** A client authenticating as the wandb client does. */
export function wandbClient(t: TestApp, key: string): Client {
  const auth = basic(key);
  return {
    async gql(query, variables, operationName) {
      const name = operationName === undefined ? /^\s*(?:#graphql\s*)?(?:query|mutation)\s+(\w+)/.exec(query)?.[1] : operationName;
      const res = await t.api.post('/graphql').set('Authorization', auth).set('User-Agent', 'wandb-core').send({ query, variables: variables ?? null, operationName: name });
      return { status: res.status, body: res.body };
    },
    async stream(project, run, body, entity = 'alice') {
      const req = t.api.post(`/files/${entity}/${project}/${run}/file_stream`).set('Authorization', auth).set('Content-Type', 'application/json');
      const res = await (typeof body === 'string' ? req.send(body) : req.send(body as object));
      return { status: res.status, body: res.body };
    },
    async upsert(vars) {
      const all: Record<string, unknown> = {};
      for (const v of ['id', 'name', 'project', 'entity', 'groupName', 'description', 'displayName', 'notes', 'commit', 'config', 'host', 'debug', 'program', 'repo', 'jobType', 'state', 'sweep', 'tags', 'summaryMetrics']) all[v] = null;
      const res = await this.gql(UPSERT_BUCKET, { ...all, ...vars });
      if (res.status !== 200 || res.body.errors) throw new Error(`UpsertBucket failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data.upsertBucket;
    },
  };
}

/** A history line as wandb-core writes it (simplejsonext: bare NaN/Infinity allowed). */
export const line = (step: number, values: string) => `{"_step":${step},"_runtime":${step / 10},"_timestamp":${1_700_000_000 + step}${values ? ',' + values : ''}}`;

/** The client's config form: every top-level key wrapped in {"value": …}. */
export const wrapConfig = (config: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v }])));
