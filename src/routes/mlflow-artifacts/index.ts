import type { Router } from '../define.js';

/** The mlflow-artifacts proxy and the tracking-side artifact listing (artifacts issue). */
export function artifactRoutes(_r: Router): void {}
