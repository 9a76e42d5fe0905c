// W&B sweeps: what `wandb sweep` / `wandb.sweep` (UpsertSweep), `wandb agent` / `wandb.agent`
// (SweepWithRuns, CreateAgent, Heartbeat) and the public API's `api.sweep(...)` (GetSweep,
// GetSweeps) send. Resolvers: sweep-resolvers.ts.
export const WANDB_SWEEPS_SDL = /* GraphQL */ `
extend type Mutation {
  upsertSweep(input: UpsertSweepInput!): UpsertSweepPayload
  createAgent(input: CreateAgentInput!): CreateAgentPayload
  agentHeartbeat(input: AgentHeartbeatInput!): AgentHeartbeatPayload
}

input UpsertSweepInput {
  id: ID
  config: String
  description: String
  entityName: String
  projectName: String
  controller: JSONString
  scheduler: JSONString
  launchScheduler: JSONString
  templateVariableValues: JSONString
  state: String
  priorRunsFilters: JSONString
  displayName: String
  clientMutationId: String
}
type UpsertSweepPayload { sweep: Sweep configValidationWarnings: [String!]! inserted: Boolean }

input CreateAgentInput { host: String! projectName: String entityName: String sweep: String! agentConfig: JSONString clientMutationId: String }
type CreateAgentPayload { agent: Agent }

input AgentHeartbeatInput { id: ID! metrics: JSONString runState: JSONString clientMutationId: String }
type AgentHeartbeatPayload { agent: Agent "A JSON list of run, stop and exit commands." commands: JSONString }

type Agent { id: ID! name: String! host: String state: String totalRuns: Int createdAt: DateTime heartbeatAt: DateTime }
type AgentConnection { edges: [AgentEdge!]! }
type AgentEdge { node: Agent! }

type Sweep {
  id: ID!
  name: String!
  displayName: String
  method: String!
  "PENDING, RUNNING, PAUSED, FINISHED or CANCELED."
  state: String!
  description: String
  "The sweep config as YAML."
  config: String!
  createdAt: DateTime
  updatedAt: DateTime
  heartbeatAt: DateTime
  earlyStopJobRunning: Boolean
  "The best value of the sweep metric among its runs (the highest when the goal is maximize)."
  bestLoss: Float
  "A local controller's commands: {schedule: [{id, data: {args}}], earlystop: [run names]}."
  controller: JSONString
  "Schedule entries handed to agents: {scheduled: [{id, runid}]}."
  scheduler: JSONString
  runCount: Int!
  runCountExpected: Int
  project: Project
  runs(first: Int, after: String, order: String): RunConnection
  agent(agentName: String!): Agent
  agents: AgentConnection
}
type SweepConnection { edges: [SweepEdge!]! pageInfo: PageInfo! }
type SweepEdge { node: Sweep! cursor: String! }

extend type Project {
  sweep(sweepName: String!): Sweep
  sweeps(after: String, first: Int, filters: JSONString): SweepConnection
  totalSweeps: Int!
}

extend type Run {
  "Set once the sweep's early termination has told the agent to stop this run."
  shouldStop: Boolean
  failed: Boolean
  running: Boolean
  sweep: Sweep
}
`;
