#!/usr/bin/env node
// Thin launcher so `cairn` works from a checkout after `npm run build`.
import('../dist/src/main.js').then((m) => m.main(process.argv.slice(2)));
