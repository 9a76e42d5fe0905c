import { createApp, OPENAPI_INFO } from './app.js';
import type { Deps } from './deps.js';

/**
 * The OpenAPI document, generated from the route definitions. Registering routes touches no
 * dependency, so the app is built without a database here.
 */
export function openApiDocument(): unknown {
  return createApp({} as Deps).getOpenAPIDocument(OPENAPI_INFO);
}

export const openApiText = () => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
