import type { Router } from '../define.js';
import { ownedArtifactRoutes } from './get-artifact.js';
import { multipartRoutes } from './multipart.js';
import { proxyRoutes } from './proxy.js';
import { runArtifactRoutes } from './run-list.js';
import { uploadArtifactRoute } from './upload-artifact.js';

/** The mlflow-artifacts proxy and the tracking-side artifact listing. */
export function artifactRoutes(r: Router): void {
  proxyRoutes(r);
  multipartRoutes(r);
  runArtifactRoutes(r);
  ownedArtifactRoutes(r);
  uploadArtifactRoute(r);
}
