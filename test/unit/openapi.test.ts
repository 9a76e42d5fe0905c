import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument, openApiText } from '../../src/openapi.js';

describe('OpenAPI document', () => {
  it('matches the committed openapi/openapi.json (run `npm run openapi` after changing routes)', () => {
    const committed = fs.readFileSync('openapi/openapi.json', 'utf8');
    expect(committed).toBe(openApiText());
  });

  it('documents every tracking endpoint the client uses', () => {
    const paths = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths);
    for (const p of ['/api/2.0/mlflow/runs/log-batch', '/api/2.0/mlflow/runs/search', '/api/2.0/mlflow/metrics/get-history', '/health', '/version']) {
      expect(paths).toContain(p);
    }
  });
});
