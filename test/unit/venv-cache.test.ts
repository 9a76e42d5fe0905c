import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/venv.sh under concurrent runs (two `npm test`s, or a test run and a bench, sharing
// ~/.cache/cairn): one builds, the other waits and reuses it; nobody deletes a venv in use. A stand-in
// `python3` on PATH makes a venv whose installer (uv, as scripts/pip-install.sh runs it) only records
// its calls (slowly), so no PyPI is needed.

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-venv-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fakePython(): string {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const log = path.join(tmp, 'builds.log');
  fs.writeFileSync(
    path.join(bin, 'python3'),
    `#!/usr/bin/env bash
# python3 -m venv DIR: a venv whose uv sleeps, then logs its call
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 3
echo "venv $3" >> ${log}
mkdir -p "$3/bin"
printf '#!/usr/bin/env bash\\nsleep 0.5\\necho "uv $*" >> ${log}\\n' > "$3/bin/uv"
chmod +x "$3/bin/uv"
`,
    { mode: 0o755 },
  );
  return bin;
}

describe('scripts/venv.sh', () => {
  it('builds once when two runs start together, and both get the complete venv', async () => {
    const env = { ...process.env, PATH: `${fakePython()}:${process.env.PATH}`, CAIRN_CACHE: path.join(tmp, 'cache') };
    const [a, b] = await Promise.all([1, 2].map(() => run('bash', ['scripts/venv.sh'], { cwd: repo, env })));
    const venv = a.stdout.trim();
    expect(b.stdout.trim()).toBe(venv);
    expect(fs.existsSync(path.join(venv, '.complete'))).toBe(true);
    const log = fs.readFileSync(path.join(tmp, 'builds.log'), 'utf8').trim().split('\n');
    expect(log.filter((l) => l.startsWith('venv '))).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('uv pip install'))).toHaveLength(2);
    // A third run reuses it without building.
    await run('bash', ['scripts/venv.sh'], { cwd: repo, env });
    expect(fs.readFileSync(path.join(tmp, 'builds.log'), 'utf8').trim().split('\n')).toHaveLength(3);
  }, 60_000);
});
