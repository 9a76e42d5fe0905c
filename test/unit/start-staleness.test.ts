import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module (npm start runs it before anything is compiled)
import { staleParts } from '../../scripts/stale.mjs';

// `npm start` rebuilds only the halves whose sources changed since the last build.

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-stale-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function write(file: string, at: number): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), 'x');
  fs.utimesSync(path.join(root, file), at, at);
}

describe('scripts/stale.mjs', () => {
  it('says what to rebuild: nothing built, then nothing changed, then a server, UI or migration source edited', () => {
    write('src/main.ts', 1000);
    write('src/db/connect.ts', 1000);
    write('ui/src/app.tsx', 1000);
    write('ui/node_modules/x.js', 9000); // not an input
    write('tsconfig.json', 1000);
    write('migrations/0000_init.sql', 1000);
    expect(staleParts(root)).toEqual(['server', 'ui', 'template']);
    write('dist/src/main.js', 2000);
    write('dist/ui/index.html', 2000);
    write('dist/pglite-template/.built', 2000);
    expect(staleParts(root)).toEqual([]);
    write('src/db/connect.ts', 3000);
    expect(staleParts(root)).toEqual(['server']);
    write('dist/src/main.js', 4000);
    write('ui/src/app.tsx', 5000);
    expect(staleParts(root)).toEqual(['ui']);
    write('dist/ui/index.html', 6000);
    write('migrations/0001_next.sql', 7000);
    expect(staleParts(root)).toEqual(['template']);
  });
});
