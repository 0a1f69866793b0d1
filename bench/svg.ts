export interface Bar {
  label: string;
  value: number;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A grouped bar chart as standalone SVG; `log` draws the value axis in powers of ten. */
export function barChart(
  title: string,
  unit: string,
  groups: BarGroup[],
  options: { log?: boolean } = {},
): string {
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const width = 720;
  const height = 320;
  const left = 70;
  const bottom = 60;
  const top = 40;
  const plotH = height - top - bottom;
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)), 1e-9);
  const min = options.log
    ? Math.max(Math.min(...groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0)) / 2, 1e-3)
    : 0;
  const lo = options.log ? Math.floor(Math.log10(min)) : 0;
  const hi = options.log ? Math.ceil(Math.log10(max)) : max * 1.1;
  const y = (v: number) =>
    top +
    plotH -
    (options.log ? ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH : (v / hi) * plotH);
  const groupW = (width - left - 20) / groups.length;
  const barW = Math.min(40, (groupW - 20) / names.length);
  const ticks = options.log
    ? Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i))
    : Array.from({ length: 5 }, (_, i) => (hi / 4) * i);
  const fmt = (v: number) =>
    v >= 1000 ? `${Math.round(v / 100) / 10}k` : v >= 1 ? String(Math.round(v * 10) / 10) : String(v);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${left}" x2="${width - 20}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    ),
  ];
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * names.length) / 2;
    g.bars.forEach((b) => {
      const i = names.indexOf(b.label);
      const x = x0 + i * barW;
      parts.push(
        `<rect x="${x}" y="${y(b.value)}" width="${barW - 4}" height="${top + plotH - y(b.value)}" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(`${g.label} ${b.label}: ${b.value} ${unit}`)}</title></rect>`,
        `<text x="${x + (barW - 4) / 2}" y="${y(b.value) - 4}" text-anchor="middle" font-size="10">${fmt(b.value)}</text>`,
      );
    });
    parts.push(
      `<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  names.forEach((n, i) => {
    const x = left + i * 170;
    parts.push(
      `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="${height - 12}">${esc(n)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
