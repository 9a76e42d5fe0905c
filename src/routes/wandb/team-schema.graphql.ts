// Teams and the public API's project/run management (docs/teams.md): what wandb 0.31's Api sends
// for `api.team`, `api.create_team`, `team.invite`, `member.delete`, `api.viewer.teams`,
// `api.projects`, `api.project`, `api.organization` and `run.delete()`.
export const WANDB_TEAMS_SDL = /* GraphQL */ `
extend type Query {
  "The projects of an entity (the legacy name of projects)."
  models(entityName: String, after: String, first: Int): ProjectConnection
  organization(name: String): Organization
}

extend type Mutation {
  createTeam(input: CreateTeamInput!): CreateTeamPayload
  createInvite(input: CreateInviteInput!): CreateInvitePayload
  deleteInvite(input: DeleteInviteInput!): SuccessPayload
  deleteRun(input: DeleteRunInput!): DeleteRunPayload
}

extend type Entity {
  available: Boolean
  photoUrl: String
  readOnly: Boolean
  readOnlyAdmin: Boolean!
  entityType: String
  privateOnly: Boolean!
  storageBytes: Int64!
  codeSavingEnabled: Boolean!
  defaultAccess: String!
  isPaid: Boolean
  limits: JSONString
  members: [Member!]!
}

# Organization.orgEntity is declared with the Registry refusal (artifact-collection-schema.graphql.ts).

extend type Project {
  isBenchmark: Boolean!
  user: User
}

type Member {
  id: ID
  admin: Boolean
  pending: Boolean
  email: String
  username: String
  name: String!
  photoUrl: String
  accountType: String
  apiKey: String
  "Cairn: the member's role (admin, member or viewer)."
  role: String
}

type ProjectConnection { edges: [ProjectEdge!]! pageInfo: PageInfo! }
type ProjectEdge { node: Project cursor: String! }

input CreateTeamInput { teamName: String! teamAdminUserName: String organizationId: String }
type CreateTeamPayload { entity: Entity }

input CreateInviteInput { entityName: String! email: String username: String admin: Boolean }
type CreateInvitePayload { invite: Invite }
type Invite { id: ID! name: String email: String createdAt: DateTime toUser: User }

input DeleteInviteInput { id: String entityName: String }

input DeleteRunInput { id: ID! deleteArtifacts: Boolean clientMutationId: String }
type DeleteRunPayload { clientMutationId: String }
`;
