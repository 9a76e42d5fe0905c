import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests that run `bin/cairn.js` (crash, start-up) run dist/, not src/: a bare `npx vitest run` after
// an edit must not test the previous build. vitest's globalSetup rebuilds when any input of
// `npm run build` is newer than the build's output.

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUTPUT = path.join(repoRoot, 'dist/src/main.js');
const INPUTS = ['src', 'scripts', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestInput(p: string): { file: string; mtimeMs: number } | undefined {
  const abs = path.join(repoRoot, p);
  if (!fs.existsSync(abs)) return undefined;
  const stat = fs.statSync(abs);
  if (!stat.isDirectory()) return { file: p, mtimeMs: stat.mtimeMs };
  let newest: { file: string; mtimeMs: number } | undefined;
  for (const entry of fs.readdirSync(abs)) {
    if (p === 'scripts' && !entry.endsWith('.ts')) continue;
    const found = newestInput(path.join(p, entry));
    if (found && (!newest || found.mtimeMs > newest.mtimeMs)) newest = found;
  }
  return newest;
}

/** Why dist/ is out of date (a missing build, or the newest source newer than it), or undefined. */
export function staleBuild(): string | undefined {
  if (!fs.existsSync(OUTPUT)) return 'dist/src/main.js is missing';
  const built = fs.statSync(OUTPUT).mtimeMs;
  const newest = INPUTS.map(newestInput).reduce((a, b) => (b && (!a || b.mtimeMs > a.mtimeMs) ? b : a), undefined);
  return newest && newest.mtimeMs > built ? `${newest.file} is newer than dist/` : undefined;
}

/** Runs `npm run build` when dist/ is missing or older than its sources. */
export function buildIfStale(): void {
  const why = staleBuild();
  if (!why) return;
  process.stderr.write(`rebuilding dist/ for the tests that run bin/cairn.js: ${why}\n`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  const still = staleBuild();
  if (still) throw new Error(`npm run build left dist/ out of date: ${still}`);
}
