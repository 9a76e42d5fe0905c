import { invalidParam } from '../errors.js';

// MLflow's basic-auth permission levels. What a route needs is one of read / edit / manage; a
// delete is a manage, as in MLflow (can_delete is MANAGE's alone).
export const PERMISSIONS = ['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export type Need = 'read' | 'edit' | 'manage';

export const RANK: Record<Permission, number> = { NO_PERMISSIONS: 0, READ: 1, EDIT: 2, MANAGE: 3 };
const NEEDED: Record<Need, number> = { read: 1, edit: 2, manage: 3 };

export const allows = (p: Permission, need: Need) => RANK[p] >= NEEDED[need];

export function parsePermission(value: unknown): Permission {
  // MLflow 3's USE tier sits between READ and EDIT; Cairn has no use-only routes, so it reads as READ.
  if (value === 'USE') return 'READ';
  if (typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value)) return value as Permission;
  throw invalidParam(`Invalid permission '${String(value).slice(0, 40)}'. Valid permissions are: ${PERMISSIONS.join(', ')}`);
}
