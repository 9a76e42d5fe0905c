import type { Router } from '../define.js';
import { loggedModelRoutes } from './logged-models.js';
import { modelVersionRoutes } from './model-versions.js';
import { registeredModelRoutes } from './registered-models.js';

/** Registered models, model versions, aliases and stages, and MLflow 3 logged models. */
export function registryRoutes(r: Router): void {
  registeredModelRoutes(r);
  modelVersionRoutes(r);
  loggedModelRoutes(r);
}
