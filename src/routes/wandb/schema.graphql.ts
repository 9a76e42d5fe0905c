// The part of W&B's GraphQL schema that the wandb client (0.31) sends documents against: run
// logging (Viewer, ServerFeaturesQuery, UpsertBucket, CreateRunFiles, RunResumeStatus) and the
// public API's reads (GetViewer, GetDefaultEntity, Runs, Run, the history queries). Names,
// nullability and argument types follow the client's documents, since graphql-js validates each
// document against this schema before anything runs.
export const WANDB_SDL = /* GraphQL */ `
scalar JSONString
scalar JSON
scalar Int64
scalar DateTime
scalar Duration

enum AlertSeverity { INFO WARN ERROR }

type Query {
  viewer: User
  serverInfo: ServerInfo
  project(name: String, entityName: String): Project
  "The legacy name of project, used by RunResumeStatus."
  model(name: String, entityName: String): Project
  entity(name: String): Entity
}

type Mutation {
  upsertBucket(input: UpsertBucketInput!): UpsertBucketPayload
  createRunFiles(input: CreateRunFilesInput!): CreateRunFilesPayload
  markRunFilesUploaded(input: RunFilesInput!): SuccessPayload
  notifyScriptableRunAlert(input: NotifyScriptableRunAlertInput!): SuccessPayload
}

type ServerInfo {
  features: [ServerFeature!]!
  cliVersionInfo: JSON
  latestLocalVersionInfo: LocalVersionInfo
}

type ServerFeature { name: String! isEnabled: Boolean! }

type LocalVersionInfo { outOfDate: Boolean! latestVersionString: String! versionOnThisInstanceString: String! }

type User {
  id: ID!
  name: String
  username: String
  email: String
  entity: String
  admin: Boolean
  flags: JSONString
  deletedAt: DateTime
  photoUrl: String
  teams: EntityConnection
  apiKeys: ApiKeyConnection
}

type ApiKeyConnection { edges: [ApiKeyEdge!]! }
type ApiKeyEdge { node: ApiKey }
type ApiKey { id: ID! name: String! description: String }

type EntityConnection { edges: [EntityEdge!]! }
type EntityEdge { node: Entity }

type Entity {
  id: ID!
  name: String!
  isTeam: Boolean
  organization: Organization
  xxhashDigestsEnabled: Boolean
}

type Organization { id: ID name: String coreWeaveOrganizationId: String }

type Project {
  id: ID!
  internalId: ID!
  name: String!
  entityName: String!
  entity: Entity!
  description: String
  readOnly: Boolean
  createdAt: DateTime
  runCount(filters: JSONString): Int!
  runs(filters: JSONString, after: String, first: Int, order: String): RunConnection
  run(name: String!): Run
  bucket(name: String!, missingOk: Boolean): Run
}

type RunConnection { edges: [RunEdge!]! pageInfo: PageInfo! totalCount: Int }
type RunEdge { node: Run! cursor: String! }
type PageInfo { startCursor: String endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! }

type Run {
  id: ID!
  name: String!
  displayName: String
  description: String
  notes: String
  state: String
  group: String
  jobType: String
  commit: String
  host: String
  sweepName: String
  readOnly: Boolean
  stopped: Boolean
  exitcode: Int
  createdAt: DateTime
  heartbeatAt: DateTime
  updatedAt: DateTime
  tags: [String!]!
  config: JSONString
  summaryMetrics: JSONString
  systemMetrics: JSONString
  historyLineCount: Int
  logLineCount: Int
  eventsLineCount: Int
  historyKeys: JSON
  historyTail: JSONString
  eventsTail: JSONString
  wandbConfig(keys: [String!]): JSONString
  user: User
  project: Project
  projectId: Int!
  history(samples: Int, minStep: Int64, maxStep: Int64): [JSONString!]!
  events(samples: Int): [JSONString!]!
  sampledHistory(specs: [JSONString!]!): [JSON]!
  parquetHistory(liveKeys: [String!]!): ParquetHistory!
  fileCount: Int!
  files(names: [String], after: String, first: Int, pattern: String): FileConnection
}

type FileConnection { edges: [FileEdge!]! pageInfo: PageInfo! }
type FileEdge { node: File! cursor: String! }

type File {
  id: ID!
  name: String!
  "A signed download URL (upload: true is accepted and answered the same way: uploads go through CreateRunFiles)."
  url(upload: Boolean): String
  directUrl: String!
  sizeBytes: Int64!
  mimetype: String
  updatedAt: DateTime
  md5: String
}

type ParquetHistory { parquetUrls: [String!]! liveData: [JSON!]! }

input UpsertBucketInput {
  id: String
  name: String
  groupName: String
  modelName: String
  entityName: String
  description: String
  displayName: String
  notes: String
  config: JSONString
  commit: String
  host: String
  debug: Boolean
  jobProgram: String
  jobRepo: String
  jobType: String
  state: String
  sweep: String
  tags: [String!]
  summaryMetrics: JSONString
}

type UpsertBucketPayload { bucket: Run inserted: Boolean updateAvailable: Boolean }

input CreateRunFilesInput { entityName: String! projectName: String! runName: String! files: [String!]! }

type CreateRunFilesPayload { runID: ID! uploadHeaders: [String!]! files: [RunFileUpload!]! }

type RunFileUpload { name: String! uploadUrl: String }

input RunFilesInput { entityName: String! projectName: String! runName: String! files: [String!]! }

input NotifyScriptableRunAlertInput {
  entityName: String!
  projectName: String!
  runName: String!
  title: String!
  text: String!
  severity: AlertSeverity
  waitDuration: Duration
}

type SuccessPayload { success: Boolean! }
`;
