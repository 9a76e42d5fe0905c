import type { Router } from '../define.js';

/** Registered models, model versions, aliases and MLflow 3 logged models (registry issue). */
export function registryRoutes(_r: Router): void {}
