import { buildIfStale } from './build.js';

/** Once per vitest run, before any test file: dist/ up to date for the tests that spawn the server. */
export default function setup(): void {
  buildIfStale();
}
