import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The SystemBreaker app: `npm run build:app` writes loadgen/dist, which the local gateway serves at /. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
});
