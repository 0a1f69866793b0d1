import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';
import { reportAssets } from './src/report/assets.ts';

/** The SystemBreaker app: `npm run build:app` writes loadgen/dist, which the local gateway serves at /. */
const gateway = process.env.GATEWAY_URL || 'http://127.0.0.1:8080';

/**
 * `npm run dev:app` proxies the gateway's routes onto the app's own origin. The gateway answers
 * only its own Host and changes state only for its own Origin (pages of other sites must not),
 * so the proxy speaks as the gateway's own origin: this dev server is the user's own tool.
 */
const toGateway: ProxyOptions = {
  target: gateway,
  changeOrigin: true,
  configure: (proxy) => {
    proxy.on('proxyReq', (req) => {
      if (req.getHeader('origin')) req.setHeader('origin', new URL(gateway).origin);
    });
  },
};

/** `virtual:systembreaker-report`: the HTML report's script and styles, as `npm run report` inlines them. */
function reportAssetsModule(): Plugin {
  const id = 'virtual:systembreaker-report';
  return {
    name: 'systembreaker-report',
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    async load(resolved) {
      if (resolved !== `\0${id}`) return undefined;
      const { script, css } = await reportAssets();
      return `export const script = ${JSON.stringify(script)};\nexport const css = ${JSON.stringify(css)};\n`;
    },
  };
}

export default defineConfig({
  plugins: [reportAssetsModule()],
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // `npm run dev:app` (GATEWAY_URL, default the local gateway): the gateway's routes on the
  // app's own origin, so /system/* works without CORS (OpenFaaS does not send CORS headers there).
  server: {
    host: '127.0.0.1',
    proxy: { '/function': toGateway, '/system': toGateway, '/healthz': toGateway },
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
