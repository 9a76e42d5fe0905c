import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The UI builds into the server's output (dist/ui), which src/routes/ui-static.ts serves.
// `npm run dev:ui` proxies API calls to a Cairn on CAIRN_URL (default http://127.0.0.1:5000).
const root = fileURLToPath(new URL('.', import.meta.url));
const target = process.env.CAIRN_URL ?? 'http://127.0.0.1:5000';

export default defineConfig({
  root,
  // Relative asset URLs: the server writes a <base> into index.html (the --static-prefix, or /).
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { '/api': target, '/ajax-api': target, '/get-artifact': target } },
});
