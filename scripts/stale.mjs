// Which parts of `npm run build` are out of date: the server (tsc: src/ -> dist/src), the UI
// (vite: ui/ -> dist/ui) and the embedded database template (migrations/ -> dist/pglite-template).
// Plain JavaScript, so `npm start` can ask before anything is compiled.
import fs from 'node:fs';
import path from 'node:path';

export const PARTS = {
  server: { output: 'dist/src/main.js', inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'] },
  ui: { output: 'dist/ui/index.html', inputs: ['ui', 'package-lock.json'] },
  // The embedded database a first start copies (src/db/pglite-template.ts).
  template: { output: 'dist/pglite-template/.built', inputs: ['migrations', 'package-lock.json'] },
};

function newestMtime(abs) {
  if (!fs.existsSync(abs)) return 0;
  const stat = fs.statSync(abs);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(abs)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(abs, entry)));
  }
  return newest;
}

/** The parts whose output is missing or older than their newest input. */
export function staleParts(root) {
  return Object.entries(PARTS)
    .filter(([, part]) => {
      const out = path.join(root, part.output);
      if (!fs.existsSync(out)) return true;
      const built = fs.statSync(out).mtimeMs;
      return part.inputs.some((input) => newestMtime(path.join(root, input)) > built);
    })
    .map(([name]) => name);
}
