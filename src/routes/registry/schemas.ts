import { z } from '@hono/zod-openapi';
import { metricOut } from '../mlflow/schemas.js';

// Response shapes for the OpenAPI document (the domain layer builds the wire form; these describe it).
const kv = z.object({ key: z.string(), value: z.string() });

export const modelVersionOut = z
  .object({
    name: z.string(),
    version: z.string(),
    creation_timestamp: z.number().int(),
    last_updated_timestamp: z.number().int(),
    user_id: z.string().optional(),
    current_stage: z.enum(['None', 'Staging', 'Production', 'Archived']),
    description: z.string().optional(),
    source: z.string(),
    run_id: z.string().optional(),
    status: z.enum(['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION']),
    status_message: z.string().optional(),
    tags: z.array(kv).optional(),
    run_link: z.string().optional(),
    aliases: z.array(z.string()).optional(),
    model_id: z.string().optional(),
  })
  .openapi('ModelVersion');

export const registeredModelOut = z
  .object({
    name: z.string(),
    creation_timestamp: z.number().int(),
    last_updated_timestamp: z.number().int(),
    user_id: z.string().optional(),
    description: z.string().optional(),
    latest_versions: z.array(modelVersionOut).optional(),
    tags: z.array(kv).optional(),
    aliases: z.array(z.object({ alias: z.string(), version: z.string() })).optional(),
    deployment_job_id: z.string().optional(),
  })
  .openapi('RegisteredModel');

export const loggedModelOut = z
  .object({
    info: z.object({
      model_id: z.string(),
      experiment_id: z.string(),
      name: z.string(),
      creation_timestamp_ms: z.number().int(),
      last_updated_timestamp_ms: z.number().int(),
      artifact_uri: z.string(),
      status: z.enum(['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']),
      model_type: z.string().optional(),
      source_run_id: z.string().optional(),
      status_message: z.string().optional(),
      tags: z.array(kv).optional(),
    }),
    data: z.object({ params: z.array(kv).optional(), metrics: z.array(metricOut).optional() }),
  })
  .openapi('LoggedModel');

export const fileInfoOut = z.object({ path: z.string(), is_dir: z.boolean(), file_size: z.number().int().optional() }).openapi('FileInfo');
