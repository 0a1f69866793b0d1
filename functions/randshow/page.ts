import type { ShownCat } from '../../contract/functions.ts';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** The talk's "image tag": the cat inline as a data: URI, with what is known about it. */
export function catPage(cat: ShownCat, image: Buffer): string {
  const e = (v: string | number) => escapeHtml(String(v));
  const src = `data:${e(cat.mime)};base64,${image.toString('base64')}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Cat ${e(cat.id)}</title>
<style>body{margin:0;font:14px system-ui,sans-serif;background:#111;color:#ddd;text-align:center}img{max-width:100%;height:auto;display:block;margin:0 auto}p{margin:.5em}</style>
</head>
<body>
<img src="${src}" width="${e(cat.width)}" height="${e(cat.height)}" alt="Cat ${e(cat.id)}">
<p>cat ${e(cat.id)} from ${e(cat.sourceUrl)} · ${e(cat.width)}×${e(cat.height)} ${e(cat.mime)} · ${e(cat.bytes)} bytes (${e(cat.storedBytes)} stored as ${e(cat.encoding)}) · ${e(cat.strategy)} in ${e(cat.ms)} ms</p>
</body>
</html>
`;
}
