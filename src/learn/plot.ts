/** Training curves as a small self-contained SVG (log-scale loss against epoch). */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

export function lossCurveSvg(title: string, series: readonly Series[], markEpoch?: number): string {
  const W = 640;
  const H = 360;
  const pad = { l: 60, r: 20, t: 36, b: 40 };
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const lo = Math.log10(Math.min(...all, 1));
  const hi = Math.log10(Math.max(...all, 1e-9));
  const y0 = Math.floor(lo);
  const y1 = Math.max(y0 + 1, Math.ceil(hi));
  const x = (i: number) => pad.l + (i / (n - 1)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + ((y1 - Math.log10(v)) / (y1 - y0)) * (H - pad.t - pad.b);
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`];
  for (let e = y0; e <= y1; e++) {
    parts.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`, `<text x="${pad.l - 6}" y="${y(10 ** e) + 4}" text-anchor="end">1e${e}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">epoch (1…${n})</text>`);
  if (markEpoch) parts.push(`<line x1="${x(markEpoch - 1)}" x2="${x(markEpoch - 1)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#999" stroke-dasharray="4 3"/><text x="${x(markEpoch - 1) + 4}" y="${pad.t + 12}">best</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) && v > 0 ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    parts.push(`<rect x="${W - pad.r - 120}" y="${pad.t + 6 + k * 18}" width="12" height="3" fill="${s.color}"/><text x="${W - pad.r - 102}" y="${pad.t + 11 + k * 18}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
