import { z } from '@hono/zod-openapi';
import { createAssessment, deleteAssessment, getAssessment, updateAssessment } from '../../domain/traces/assessments.js';
import { requiredString } from '../../lib/zod-wire.js';
import type { Router } from '../define.js';
import { definePathRoute } from '../registry/path-route.js';
import { empty } from './schemas.js';

// Assessments on a trace; access follows the trace's experiment (resources.ts resolves trace_id).

const tag = 'Traces';
const assessment = z.object({}).passthrough().openapi('Assessment');
const out = z.object({ assessment });
const one = '/mlflow/traces/{trace_id}/assessments/{assessment_id}';

export function assessmentRoutes(r: Router): void {
  definePathRoute(r, {
    method: 'post', path: '/mlflow/traces/{trace_id}/assessments', version: '3.0', access: 'experiment:edit', tag,
    summary: 'Log an assessment (feedback or expectation); with `overrides`, the named one turns invalid',
    input: z.object({ trace_id: requiredString, assessment }),
    output: out,
    handle: async (deps, input) => ({ assessment: await createAssessment(deps, input.trace_id, input.assessment) }),
  });
  definePathRoute(r, {
    method: 'get', path: one, version: '3.0', access: 'experiment:read', tag, summary: 'Get an assessment',
    input: z.object({ trace_id: requiredString, assessment_id: requiredString }),
    output: out,
    handle: async (deps, input) => ({ assessment: await getAssessment(deps, input.trace_id, input.assessment_id) }),
  });
  definePathRoute(r, {
    method: 'patch', path: one, version: '3.0', access: 'experiment:edit', tag, summary: 'Update an assessment (the fields its update_mask names)',
    input: z.object({ trace_id: requiredString, assessment_id: requiredString, assessment: assessment.default({}), update_mask: z.unknown() }),
    output: out,
    handle: async (deps, input) => ({
      assessment: await updateAssessment(deps, input.trace_id, input.assessment_id, input.assessment, input.update_mask),
    }),
  });
  definePathRoute(r, {
    method: 'delete', path: one, version: '3.0', access: 'experiment:manage', tag, summary: 'Delete an assessment',
    input: z.object({ trace_id: requiredString, assessment_id: requiredString }),
    output: empty,
    handle: async (deps, input) => {
      await deleteAssessment(deps, input.trace_id, input.assessment_id);
      return {};
    },
  });
}
