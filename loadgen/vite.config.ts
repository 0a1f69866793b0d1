import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The SystemBreaker app: `npm run build:app` writes loadgen/dist, which the local gateway serves at /. */
const gateway = process.env.GATEWAY_URL;

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // `GATEWAY_URL=… npm run dev:app`: the gateway's routes on the app's own origin, so
  // /system/* works without CORS (OpenFaaS does not send CORS headers there).
  server: {
    host: '127.0.0.1',
    ...(gateway ? { proxy: { '/function': gateway, '/system': gateway, '/healthz': gateway } } : {}),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // hdr-histogram-js's browser build reaches for Node's zlib with eval, only to encode
        // histograms, which the app never does: nothing a user could act on.
        if (warning.code === 'EVAL' && warning.id?.includes('hdr-histogram-js')) return;
        warn(warning);
      },
    },
  },
  worker: { format: 'es' },
});
