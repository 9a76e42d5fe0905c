import type { Router } from '../define.js';
import { assessmentRoutes } from './assessments.js';
import { datasetRoutes } from './datasets.js';
import { experimentRoutes } from './experiments.js';
import { loggingRoutes } from './logging.js';
import { metricRoutes } from './metrics.js';
import { otlpRoutes } from './otlp.js';
import { runRoutes } from './runs.js';
import { scorerRoutes } from './scorers.js';
import { traceRoutes } from './traces.js';
import { traceV2Routes } from './traces-v2.js';
import { uiSupportRoutes } from './ui-support.js';

export function mlflowTrackingRoutes(r: Router): void {
  experimentRoutes(r);
  runRoutes(r);
  loggingRoutes(r);
  metricRoutes(r);
  traceRoutes(r);
  traceV2Routes(r);
  otlpRoutes(r);
  assessmentRoutes(r);
  scorerRoutes(r);
  datasetRoutes(r);
  uiSupportRoutes(r);
}
