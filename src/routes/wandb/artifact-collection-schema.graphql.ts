// Artifact collections as the public API reads and edits them (wandb/apis/public/artifacts.py:
// ArtifactCollection, ArtifactCollections, ArtifactTypeArtifactCollections).
export const WANDB_ARTIFACT_COLLECTIONS_SDL = /* GraphQL */ `
enum ArtifactCollectionState { READY DELETED }
type TagEdge { node: Tag! }
type TagConnection { edges: [TagEdge!]! }
type ArtifactCollectionEdge { node: ArtifactCollection cursor: String! }
type ArtifactCollectionConnection { totalCount: Int! pageInfo: PageInfo! edges: [ArtifactCollectionEdge!]! }

extend interface ArtifactCollection {
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  state: ArtifactCollectionState!
}
extend type ArtifactSequence {
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  state: ArtifactCollectionState!
}
extend type ArtifactPortfolio {
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
  state: ArtifactCollectionState!
}
extend type ArtifactType {
  artifactCollections(after: String, first: Int, filters: JSONString, order: String): ArtifactCollectionConnection
}
extend type Project {
  artifactCollections(after: String, first: Int, filters: JSONString, order: String): ArtifactCollectionConnection
}

input UpdateArtifactSequenceInput { artifactSequenceID: ID! name: String description: String clientMutationId: String }
input UpdateArtifactPortfolioInput { artifactPortfolioID: ID! name: String description: String clientMutationId: String }
input DeleteArtifactSequenceInput { artifactSequenceID: ID! clientMutationId: String }
input DeleteArtifactPortfolioInput { artifactPortfolioID: ID! clientMutationId: String }
input CreateArtifactCollectionTagAssignmentsInput {
  entityName: String!
  projectName: String!
  artifactCollectionName: String!
  tags: [TagInput!]!
  clientMutationID: String
}
input DeleteArtifactCollectionTagAssignmentsInput {
  entityName: String!
  projectName: String!
  artifactCollectionName: String!
  tags: [TagInput!]!
  clientMutationID: String
}
type ArtifactCollectionPayload { artifactCollection: ArtifactCollection }
type CreateArtifactCollectionTagAssignmentsPayload { tags: [Tag!]! }
type DeleteArtifactCollectionTagAssignmentsPayload { success: Boolean! }

# The W&B Registry (organizations, wandb-registry-* projects) is not served: these fields exist so
# the client's organization lookup is valid GraphQL and gets Cairn's own refusal, not a schema error.
extend type Entity { user: User }
extend type User { organizations: [Organization!]! }
extend type Organization { orgEntity: Entity }

extend type Mutation {
  updateArtifactSequence(input: UpdateArtifactSequenceInput!): ArtifactCollectionPayload
  updateArtifactPortfolio(input: UpdateArtifactPortfolioInput!): ArtifactCollectionPayload
  deleteArtifactSequence(input: DeleteArtifactSequenceInput!): ArtifactCollectionPayload
  deleteArtifactPortfolio(input: DeleteArtifactPortfolioInput!): ArtifactCollectionPayload
  createArtifactCollectionTagAssignments(input: CreateArtifactCollectionTagAssignmentsInput!): CreateArtifactCollectionTagAssignmentsPayload
  deleteArtifactCollectionTagAssignments(input: DeleteArtifactCollectionTagAssignmentsInput!): DeleteArtifactCollectionTagAssignmentsPayload
}
`;
