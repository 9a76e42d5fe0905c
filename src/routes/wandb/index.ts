import type { Router } from '../define.js';

/** The W&B wire protocol: GraphQL, file_stream, upload URLs, and the plain REST run endpoint (W&B issue). */
export function wandbRoutes(_r: Router): void {}
