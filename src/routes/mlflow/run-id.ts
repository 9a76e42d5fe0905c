import { z } from '@hono/zod-openapi';
import { markRunIdFirst } from '../define.js';

/**
 * Input objects that name a run: the client sends both `run_id` and its legacy alias `run_uuid`;
 * either satisfies the requirement, and handlers read the merged `run_id`.
 */
export function withRunId<T extends z.ZodRawShape>(shape: T) {
  return markRunIdFirst(z
    .object({ ...shape, run_id: z.string().optional(), run_uuid: z.string().optional() })
    .superRefine((value, ctx) => {
      const v = value as RunIdFields;
      if (!v.run_id && !v.run_uuid) ctx.addIssue({ code: 'custom', path: ['run_id'], message: 'Missing value' });
    })
    .transform((v) => ({ ...v, run_id: ((v as RunIdFields).run_id || (v as RunIdFields).run_uuid) as string })));
}

interface RunIdFields {
  run_id?: string;
  run_uuid?: string;
}
