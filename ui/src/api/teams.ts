import { get, post } from './client';

// Teams (docs/teams.md): /api/2.0/cairn/teams/*, on servers with accounts (--app-name basic-auth).

const T = '2.0/cairn/teams';

export type Role = 'admin' | 'member' | 'viewer';
export const ROLES: Role[] = ['admin', 'member', 'viewer'];

export interface Team {
  name: string;
  created_at: number;
  role?: Role;
}

export interface TeamResource {
  resource_type: 'experiment' | 'registered_model';
  resource_id: string;
  name: string;
  permission?: string;
}

export interface TeamPage {
  team: Team;
  members: { username: string; role: Role }[];
  owned: TeamResource[];
  shared_with_team: TeamResource[];
}

export interface Share {
  team?: string;
  username?: string;
  permission: string;
}

export interface Me {
  username: string;
  is_admin: boolean;
}

export const currentUser = () => get<{ user: Me }>('2.0/mlflow/users/current').then((r) => r.user);
export const listTeams = () => get<{ teams: Team[] }>(`${T}/list`).then((r) => r.teams);
export const createTeam = (name: string) => post(`${T}/create`, { name });
export const getTeam = (name: string) => get<TeamPage>(`${T}/get`, { name });
export const setMember = (team: string, username: string, role: Role) => post(`${T}/members/set`, { team, username, role });
export const removeMember = (team: string, username: string) => post(`${T}/members/remove`, { team, username });
export const sharesOf = (r: TeamResource) => get<{ shares: Share[] }>(`${T}/shares`, { resource_type: r.resource_type, resource_id: r.resource_id }).then((x) => x.shares);

export const SHARE_LEVELS = ['READ', 'EDIT', 'MANAGE'] as const;
export type ShareLevel = (typeof SHARE_LEVELS)[number];
/** Who a share names: another team, or one user (their own permission row). */
export type Grantee = { team: string } | { username: string };
const target = (r: TeamResource) => ({ resource_type: r.resource_type, resource_id: r.resource_id });
export const shareResource = (r: TeamResource, to: Grantee, permission: ShareLevel) => post(`${T}/share`, { ...target(r), ...to, permission });
export const unshareResource = (r: TeamResource, from: Grantee) => post(`${T}/unshare`, { ...target(r), ...from });
