import fs from 'node:fs';
import path from 'node:path';
import { openApiText } from '../src/openapi.js';

// `npm run openapi`: rewrites openapi/openapi.json from the route definitions.
const out = path.resolve('openapi', 'openapi.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, openApiText());
console.log(`wrote ${out}`);
