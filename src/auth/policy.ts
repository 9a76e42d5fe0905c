import type { Context } from 'hono';
import type { Deps } from '../deps.js';
import { MlflowError } from '../errors.js';
import { effectivePermission, type ResourceKind } from './grants.js';
import { allows, type Need } from './permissions.js';
import { ANONYMOUS, type Principal } from './principal.js';
import { experimentOfArtifact, experimentsOf, registeredModelsOf, type Input } from './resources.js';

/**
 * A route's access policy, declared next to its definition. A closed set:
 * - `public`: anyone, even with auth on (health, version, server-info, the OpenAPI document);
 * - `authenticated`: any account; the handler narrows further (search results filtered to what the
 *   caller may read, "self or admin" on account calls, per-project checks in W&B GraphQL);
 * - `admin`: admins only;
 * - `experiment:<need>`: the experiment(s) the input names (experiment_id, run_id/run_uuid,
 *   run_ids, model_id of a logged model, experiment_name), see resources.ts;
 * - `model:<need>`: the registered model named by `name`;
 * - `artifact:<need>`: the experiment an mlflow-artifacts path starts with, or its run's (the route
 *   passes the key; see experimentOfArtifact).
 * <need> is read, edit or manage (deletes are manage, as in MLflow).
 */
export type Access =
  | 'public'
  | 'authenticated'
  | 'admin'
  | `experiment:${Need}`
  | `model:${Need}`
  | `artifact:${Need}`;

const ACCESS = /^(public|authenticated|admin|(experiment|model|artifact):(read|edit|manage))$/;

/** Start-up check: a route without a valid policy is a bug, never an open door. */
export function assertAccess(access: unknown, where: string): asserts access is Access {
  if (typeof access !== 'string' || !ACCESS.test(access)) {
    throw new Error(`route ${where} declares no access policy (got ${JSON.stringify(access)}): every route must say who may call it`);
  }
}

const PRINCIPAL = 'cairnPrincipal';

/** The caller, as the authentication middleware found it. */
export function principalOf(c: Context): Principal {
  return (c.get(PRINCIPAL as never) as Principal | undefined) ?? ANONYMOUS;
}

/** The account acting, for the activity record; undefined when nobody is known (accounts off). */
export function actorOf(c: Context): string | undefined {
  const p = principalOf(c);
  return p.kind === 'user' ? p.username : undefined;
}

export function setPrincipal(c: Context, p: Principal): void {
  c.set(PRINCIPAL as never, p as never);
}

export const unauthenticated = () =>
  new MlflowError(
    'UNAUTHENTICATED',
    'You are not authenticated. Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN to a key from `cairn keys create`).',
  );
export const permissionDenied = (what: string) => new MlflowError('PERMISSION_DENIED', `Permission denied: ${what}`);

/** Refuses the call (401/403) unless `p` may do what `access` says; `input` names the resource. */
export async function authorize(deps: Deps, p: Principal, access: Access, input: Input, artifactKey?: string): Promise<void> {
  if (access === 'public' || p.kind === 'open') return;
  if (p.kind !== 'user') throw unauthenticated();
  if (access === 'authenticated' || p.isAdmin) return;
  if (access === 'admin') throw permissionDenied('only an admin may do this');
  const [family, need] = access.split(':') as ['experiment' | 'model' | 'artifact', Need];
  if (family === 'artifact') {
    const exp = artifactKey === undefined ? undefined : await experimentOfArtifact(deps, artifactKey);
    if (exp === undefined) throw permissionDenied('artifacts outside an experiment are for admins only');
    return check(deps, p, 'experiment', [exp], need);
  }
  const kind: ResourceKind = family === 'model' ? 'registered_model' : 'experiment';
  const ids = kind === 'experiment' ? await experimentsOf(deps, input) : await registeredModelsOf(deps, input);
  return check(deps, p, kind, ids, need, kind === 'registered_model' ? `registered model '${String(input.name).slice(0, 250)}'` : undefined);
}

async function check(deps: Deps, p: Principal, kind: ResourceKind, ids: number[], need: Need, label?: string): Promise<void> {
  for (const id of ids) {
    const perm = await effectivePermission(deps, p, kind, id);
    if (!allows(perm, need)) throw permissionDenied(`${need} access to ${label ?? `experiment ${id}`} (you have ${perm})`);
  }
}
