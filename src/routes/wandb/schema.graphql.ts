// The part of W&B's GraphQL schema that the wandb client (0.31) sends documents against: run
// logging (Viewer, ServerFeaturesQuery, UpsertBucket, CreateRunFiles, RunResumeStatus) and the
// public API's reads (GetViewer, GetDefaultEntity, Runs, Run, the history queries). Names,
// nullability and argument types follow the client's documents, since graphql-js validates each
// document against this schema before anything runs.
const WANDB_CORE_SDL = /* GraphQL */ `
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

type FileConnection { edges: [FileEdge!]! pageInfo: PageInfo! totalCount: Int }
type FileEdge { node: File! cursor: String! }

type File {
  id: ID!
  name: String!
  displayName: String!
  "Where the bytes are kept: the blob key of an artifact file, the path of a run file (null for a reference)."
  storagePath: String
  "The manifest digest of an artifact file (base64 MD5, or a reference's ETag / URL); a run file's MD5."
  digest: String
  "A signed download URL (upload: true is accepted and answered the same way: uploads go through CreateRunFiles)."
  url(upload: Boolean): String
  directUrl: String!
  sizeBytes: Int64!
  mimetype: String
  updatedAt: DateTime
  md5: String
  "Set on an artifact manifest's file, where wandb-core uploads the manifest."
  uploadUrl: String
  uploadHeaders: [String!]!
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

// W&B Artifacts: what wandb-core sends to log one (CreateArtifact, CreateArtifactManifest,
// CreateArtifactFiles, UpdateArtifactManifest, CommitArtifact, UseArtifact, ClientIDMapping) and
// what the public API reads (ArtifactMembershipByName, FetchArtifactManifest). Resolvers:
// artifact-resolvers.ts.
const WANDB_ARTIFACTS_SDL = /* GraphQL */ `
enum ArtifactState { PENDING COMMITTED DELETED }
enum ArtifactDigestAlgorithm { MANIFEST_MD5 }
enum ArtifactManifestType { FULL PATCH INCREMENTAL }
enum ArtifactStorageLayout { V1 V2 }
enum CompleteMultipartAction { Complete }

extend type Query {
  artifact(id: ID!): Artifact
  clientIDMapping(clientID: ID!): ClientIDMappingResult
}

extend type Mutation {
  createArtifact(input: CreateArtifactInput!): CreateArtifactPayload
  createArtifactManifest(input: CreateArtifactManifestInput!): CreateArtifactManifestPayload
  updateArtifactManifest(input: UpdateArtifactManifestInput!): UpdateArtifactManifestPayload
  createArtifactFiles(input: CreateArtifactFilesInput!): CreateArtifactFilesPayload
  completeMultipartUploadArtifact(input: CompleteMultipartUploadArtifactInput!): CompleteMultipartUploadArtifactPayload
  commitArtifact(input: CommitArtifactInput!): CommitArtifactPayload
  useArtifact(input: UseArtifactInput!): UseArtifactPayload
  linkArtifact(input: LinkArtifactInput!): LinkArtifactPayload
}

extend type Project {
  artifactCollectionMembership(name: String!): ArtifactCollectionMembership
  artifactCollection(name: String!): ArtifactCollection
  artifact(name: String!): Artifact
  artifactType(name: String!): ArtifactType
}

extend type Run {
  "Versions this run logged (run.logged_artifacts())."
  outputArtifacts(after: String, first: Int): ArtifactConnection
  "Versions this run used (run.used_artifacts())."
  inputArtifacts(after: String, first: Int): ArtifactConnection
}

extend type Mutation {
  deleteArtifact(input: DeleteArtifactInput!): DeleteArtifactPayload
  updateArtifact(input: UpdateArtifactInput!): UpdateArtifactPayload
  addAliases(input: AddAliasesInput!): SuccessPayload
  deleteAliases(input: DeleteAliasesInput!): SuccessPayload
}

input UpdateArtifactInput {
  artifactID: ID!
  description: String
  metadata: JSONString
  labels: JSONString
  aliases: [ArtifactAliasInput!]
  tagsToAdd: [TagInput!]
  tagsToDelete: [TagInput!]
  ttlDurationSeconds: Int64
  clientMutationId: String
}
type UpdateArtifactPayload { artifact: Artifact! }
input ArtifactCollectionAliasInput { alias: String! artifactCollectionName: String! entityName: String! projectName: String! }
input AddAliasesInput { artifactID: ID! aliases: [ArtifactCollectionAliasInput!]! clientMutationId: String }
input DeleteAliasesInput { artifactID: ID! aliases: [ArtifactCollectionAliasInput!]! clientMutationId: String }

input DeleteArtifactInput { artifactID: ID! deleteAliases: Boolean clientMutationId: String }
type DeleteArtifactPayload { artifact: Artifact! }

type ArtifactConnection { totalCount: Int! pageInfo: PageInfo! edges: [ArtifactEdge!]! }
type ArtifactEdge { node: Artifact cursor: String! }
type VersionedArtifactConnection { totalCount: Int! pageInfo: PageInfo! edges: [VersionedArtifactEdge!]! }
type VersionedArtifactEdge { node: Artifact! version: String! cursor: String! }

type ClientIDMappingResult { serverID: ID! }

input ArtifactAliasInput { alias: String! artifactCollectionName: String! }
input TagInput { tagName: String! tagCategoryName: String attributes: JSONString }

input CreateArtifactInput {
  artifactTypeName: String!
  artifactCollectionName: String
  artifactCollectionNames: [String!]
  entityName: String!
  projectName: String!
  runName: String
  description: String
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm
  labels: JSONString
  aliases: [ArtifactAliasInput!]
  tags: [TagInput!]
  metadata: JSONString
  historyStep: Int64
  distributedID: String
  clientID: ID
  sequenceClientID: ID
  enableDigestDeduplication: Boolean
  ttlDurationSeconds: Int64
  storageRegion: String
  clientMutationId: String
}

type CreateArtifactPayload { artifact: Artifact! }

input CreateArtifactManifestInput {
  artifactID: ID!
  baseArtifactID: ID
  name: String!
  digest: String!
  entityName: String!
  projectName: String!
  runName: String!
  type: ArtifactManifestType
  includeUpload: Boolean
  clientMutationId: String
}
input UpdateArtifactManifestInput { artifactManifestID: ID! digest: String baseArtifactID: ID clientMutationId: String }
type CreateArtifactManifestPayload { artifactManifest: ArtifactManifest! }
type UpdateArtifactManifestPayload { artifactManifest: ArtifactManifest! }

type ArtifactManifest { id: ID! file: File! }

input UploadPartsInput { partNumber: Int64! hexMD5: String! }
input CreateArtifactFileSpecInput {
  artifactID: ID!
  name: String!
  md5: String!
  mimetype: String
  artifactManifestID: ID
  uploadPartsInput: [UploadPartsInput!]
}
input CreateArtifactFilesInput {
  storageLayout: ArtifactStorageLayout!
  storageRegion: String
  cloudRegionID: String
  artifactFiles: [CreateArtifactFileSpecInput!]!
  clientMutationId: String
}
type CreateArtifactFilesPayload { files: ArtifactFileConnection! }
type ArtifactFileConnection { edges: [ArtifactFileEdge!]! }
type ArtifactFileEdge { node: ArtifactFileUpload }
type ArtifactFileUpload {
  storagePath: String
  uploadUrl: String
  uploadHeaders: [String!]!
  uploadMultipartUrls: UploadMultipartUrls
  artifact: Artifact
}
type UploadMultipartUrls { uploadID: String! uploadUrlParts: [UploadUrlPart!]! }
type UploadUrlPart { partNumber: Int64! uploadUrl: String! }

input CompleteMultipartUploadArtifactInput {
  completeMultipartAction: CompleteMultipartAction!
  completedParts: [UploadPartsInput!]!
  artifactID: ID!
  storagePath: String!
  uploadID: String!
}
type CompleteMultipartUploadArtifactPayload { digest: String }

input CommitArtifactInput { artifactID: ID! clientMutationId: String }
type CommitArtifactPayload { artifact: Artifact! }

input UseArtifactInput {
  entityName: String!
  projectName: String!
  runName: String!
  artifactID: ID!
  usedAs: String
  artifactEntityName: String
  artifactProjectName: String
  clientMutationId: String
}
type UseArtifactPayload { artifact: Artifact! }

type ArtifactType { id: ID! name: String! artifactCollection(name: String!): ArtifactCollection }
type Tag { id: ID! name: String! }
type ArtifactAlias { id: ID! alias: String! artifactCollection: ArtifactCollection }

interface ArtifactCollection {
  id: ID!
  name: String!
  project: Project
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
}
type ArtifactSequence implements ArtifactCollection {
  id: ID!
  name: String!
  project: Project
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
  latestArtifact: Artifact
}

"A collection of versions linked from elsewhere (link_artifact / link_model)."
type ArtifactPortfolio implements ArtifactCollection {
  id: ID!
  name: String!
  project: Project
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
  artifacts(after: String, first: Int, order: String, filters: JSONString): VersionedArtifactConnection
}
input LinkArtifactInput {
  artifactID: ID
  artifactPortfolioID: ID
  artifactPortfolioName: String
  clientID: ID
  clientMutationId: String
  entityName: String
  projectName: String
  aliases: [ArtifactAliasInput!]
}
type LinkArtifactPayload { versionIndex: Int artifactMembership: ArtifactCollectionMembership }

type ArtifactCollectionMembership {
  id: ID!
  versionIndex: Int
  createdAt: DateTime!
  aliases: [ArtifactAlias!]!
  artifactCollection: ArtifactCollection
  artifact: Artifact
  files(names: [String], after: String, first: Int): FileConnection
}

type Artifact {
  id: ID!
  artifactSequence: ArtifactSequence!
  versionIndex: Int
  artifactType: ArtifactType!
  description: String
  metadata: JSONString
  ttlDurationSeconds: Int64!
  ttlIsInherited: Boolean!
  tags: [Tag!]!
  historyStep: Int64
  state: ArtifactState!
  size: Int64!
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm
  commitHash: String
  fileCount: Int64!
  createdAt: DateTime!
  updatedAt: DateTime
  aliases: [ArtifactAlias!]!
  currentManifest: ArtifactManifest
  files(names: [String], after: String, first: Int): FileConnection
  "The logging run (artifact.logged_by())."
  createdBy: ArtifactCreator
  "Runs that used the version (artifact.used_by()), readable ones only."
  usedBy(after: String, first: Int): RunConnection!
}
union ArtifactCreator = Run | User
`;

import { WANDB_ARTIFACT_COLLECTIONS_SDL } from './artifact-collection-schema.graphql.js';
import { WANDB_SWEEPS_SDL } from './sweep-schema.graphql.js';
import { WANDB_TEAMS_SDL } from './team-schema.graphql.js';

/** The schema graphql.ts builds: the run protocol and public API, then artifacts, sweeps and teams (as extensions). */
export const WANDB_SDL = WANDB_CORE_SDL + WANDB_ARTIFACTS_SDL + WANDB_ARTIFACT_COLLECTIONS_SDL + WANDB_SWEEPS_SDL + WANDB_TEAMS_SDL;
