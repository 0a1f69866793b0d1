import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ReportAssets } from './render.ts';

/**
 * The report's script (page.ts with uPlot, bundled and minified) and uPlot's stylesheet, for
 * `npm run report` and, through a Vite plugin, the app's "HTML report" export.
 */
export async function reportAssets(): Promise<ReportAssets> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const script = out.outputFiles[0]?.text ?? '';
  const css = await readFile(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { script, css };
}
