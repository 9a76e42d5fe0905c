import type { WandbUser } from '../../domain/wandb/api-keys.js';

// The User and Entity objects several resolvers hand back; their database-backed fields
// (User.teams, Entity.isTeam, Entity.members…) have resolvers in team-resolvers.ts.

export const b64 = (s: string) => Buffer.from(s).toString('base64');

export function userObject(user: Pick<WandbUser, 'name'>) {
  return {
    id: b64(`User:${user.name}`),
    name: user.name,
    username: user.name,
    email: null,
    entity: user.name,
    admin: false,
    flags: '{}',
    deletedAt: null,
    photoUrl: null,
    apiKeys: { edges: [] },
  };
}

export interface EntityObj {
  id: string;
  name: string;
}

export const entityObject = (name: string): EntityObj & Record<string, unknown> => ({
  id: b64(`Entity:${name}`),
  name,
  organization: null,
  xxhashDigestsEnabled: false,
});

/** The username in a User id (`userObject`'s, which is also a team Member's id). */
export function userNameFromId(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const m = /^User:(.+)$/.exec(Buffer.from(id, 'base64').toString('utf8'));
  return m?.[1];
}
