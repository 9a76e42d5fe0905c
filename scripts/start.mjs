// `npm start`: rebuild only what changed since the last build (a warm start compiles nothing),
// then run `cairn server` with the arguments given after `npm start --`.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleParts } from './stale.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stale = staleParts(root);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (stale.includes('server')) execFileSync(npm, ['run', 'build:server', '--silent'], { cwd: root, stdio: 'inherit' });
if (stale.includes('template')) execFileSync(npm, ['run', 'build:template', '--silent'], { cwd: root, stdio: 'inherit' });
if (stale.includes('ui')) execFileSync(npm, ['run', 'build:ui', '--silent'], { cwd: root, stdio: 'inherit' });
const { main } = await import(path.join(root, 'dist/src/main.js'));
await main(['server', ...process.argv.slice(2)]);
