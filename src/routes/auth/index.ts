import type { Router } from '../define.js';
import { keyRoutes } from './keys.js';
import { permissionRoutes } from './permissions.js';
import { teamRoutes } from './teams.js';
import { userRoutes } from './users.js';

/** Accounts, permissions, API keys and teams (`--app-name basic-auth`). */
export function authRoutes(r: Router): void {
  userRoutes(r);
  permissionRoutes(r);
  keyRoutes(r);
  teamRoutes(r);
}
