import sharp from 'sharp';

export const CAT_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type CatFormat = (typeof CAT_FORMATS)[number];

export interface CatSpec {
  seed: number;
  width: number;
  height: number;
  format: CatFormat;
}

const FUR = ['#f4a259', '#8d6e63', '#424242', '#e0e0e0', '#ffcc80', '#bcaaa4', '#ff8a65', '#9e9e9e'];
const EYES = ['#7cb342', '#fbc02d', '#29b6f6', '#ff7043'];
const BACKGROUNDS = ['#e3f2fd', '#fce4ec', '#f1f8e9', '#fff8e1', '#ede7f6', '#e0f7fa'];

/** A small deterministic PRNG (mulberry32), so the same seed draws the same cat. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The SVG of a cat face; the seed picks colours, ear shape, stripes and expression. */
export function catSvg(spec: CatSpec): string {
  const r = rng(spec.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const fur = pick(FUR);
  const eye = pick(EYES);
  const bg = pick(BACKGROUNDS);
  const ear = 20 + r() * 20;
  const stripes = Array.from({ length: Math.floor(r() * 4) }, (_, i) => {
    const x = 85 + i * 10;
    return `<path d="M${x} 55 q5 12 0 24" stroke="#0005" stroke-width="4" fill="none"/>`;
  }).join('');
  const whiskers = [-1, 1]
    .flatMap((side) =>
      [-6, 0, 6].map(
        (dy) =>
          `<line x1="${100 + side * 18}" y1="${132 + dy / 2}" x2="${100 + side * 70}" y2="${126 + dy * 2}" stroke="#333" stroke-width="1.5"/>`,
      ),
    )
    .join('');
  const smile = r() > 0.5 ? 'q -8 8 -16 0 M100 134 q 8 8 16 0' : 'q -6 4 -12 2 M100 134 q 6 4 12 2';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}" viewBox="0 0 200 200" preserveAspectRatio="xMidYMid meet">
<rect x="-2000" y="-2000" width="4200" height="4200" fill="${bg}"/>
<polygon points="38,85 ${52 - ear / 2},${40 - ear} 88,62" fill="${fur}"/>
<polygon points="162,85 ${148 + ear / 2},${40 - ear} 112,62" fill="${fur}"/>
<ellipse cx="100" cy="112" rx="72" ry="62" fill="${fur}"/>
${stripes}
<ellipse cx="74" cy="102" rx="12" ry="15" fill="${eye}"/><ellipse cx="126" cy="102" rx="12" ry="15" fill="${eye}"/>
<ellipse cx="74" cy="102" rx="${2 + r() * 3}" ry="11" fill="#111"/><ellipse cx="126" cy="102" rx="${2 + r() * 3}" ry="11" fill="#111"/>
<polygon points="93,124 107,124 100,133" fill="#f48fb1"/>
<path d="M100 134 ${smile}" stroke="#333" stroke-width="2" fill="none"/>
${whiskers}
</svg>`;
}

/** Renders a cat picture in the given format and size. */
export async function drawCat(spec: CatSpec): Promise<Buffer> {
  const image = sharp(Buffer.from(catSvg(spec)));
  switch (spec.format) {
    case 'jpeg':
      return image.jpeg({ quality: 85 }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality: 80 }).toBuffer();
  }
}

export const MIME: Record<CatFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
