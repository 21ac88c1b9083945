/**
 * `report.html`: one self-contained page per run folder. Everything is inline (SVG figures, CSS,
 * the run's data as JSON); it has no script and loads nothing, so it opens offline, in a mail
 * attachment or a CI artefact viewer alike. Links to the run's files are relative to the report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ReportWriteError } from './errors.ts';
import { renderSvg, type Figure } from './render.ts';

export interface ReportTable {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

export interface ReportLink {
  readonly label: string;
  /** A path (absolute or relative to the working directory); written relative to the report. */
  readonly path: string;
}

export interface RunReport {
  /** e.g. "armbridge train". */
  readonly title: string;
  /** One line under the title: what was run, when. */
  readonly subtitle?: string;
  /** The run's settings, shown as a two-column table. */
  readonly settings: Readonly<Record<string, string | number | boolean | null | undefined>>;
  readonly figures: readonly Figure[];
  readonly tables: readonly ReportTable[];
  readonly links: readonly ReportLink[];
  /** Free-form notes (plain text, one paragraph each). */
  readonly notes?: readonly string[];
  /** Machine-readable data of the run (embedded as JSON, not shown). */
  readonly data?: unknown;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.5rem;margin:.5rem 0 .2rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#666;margin:0 0 1rem}
nav a{margin-right:1rem}
table{border-collapse:collapse;font-size:.9rem;margin:.3rem 0 1rem;background:white}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:0 0 1.2rem;background:white;border:1px solid #e4e4e4;padding:8px;overflow-x:auto}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:.85rem;margin-top:.3rem}
ul.links{padding-left:1.2rem}code{font-size:.85rem}
`;

function relativeLink(reportPath: string, path: string): string {
  const rel = relative(dirname(reportPath), isAbsolute(path) ? path : join(process.cwd(), path));
  return rel.split(sep).map(encodeURIComponent).join('/');
}

function cell(v: string | number): string {
  return typeof v === 'number' ? `<td class="num">${esc(Number.isInteger(v) ? String(v) : v.toPrecision(4))}</td>` : `<td>${esc(v)}</td>`;
}

/** The page for `report`, figures rendered inline. `reportPath` only serves to make links relative. */
export async function reportHtml(report: RunReport, reportPath: string): Promise<string> {
  const figures: string[] = [];
  for (const f of report.figures) {
    const svg = await renderSvg(f);
    figures.push(`<figure id="${esc(f.id)}" data-figure="${esc(f.id)}">${svg}${f.caption ? `<figcaption>${esc(f.caption)}</figcaption>` : ''}</figure>`);
  }
  const settings = Object.entries(report.settings).filter(([, v]) => v !== undefined);
  const absolute = isAbsolute(reportPath) ? reportPath : join(process.cwd(), reportPath);
  // JSON inside <script type="application/json"> must not close the element: escape '<'.
  const data = report.data === undefined ? '' : `<script type="application/json" id="run-data">${JSON.stringify(report.data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).replace(/</g, '\\u003c')}</script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(report.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(report.title)}</h1>
${report.subtitle ? `<p class="sub">${esc(report.subtitle)}</p>` : ''}
<nav><a href="#figures">Figures</a><a href="#summary">Summary</a><a href="#settings">Settings</a><a href="#files">Files</a></nav>
<h2 id="figures">Figures</h2>
${figures.join('\n') || '<p>No figures for this run.</p>'}
<h2 id="summary">Summary</h2>
${report.tables.map((t) => `<h3>${esc(t.title)}</h3><table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`).join('\n')}
${(report.notes ?? []).map((n) => `<p>${esc(n)}</p>`).join('\n')}
<h2 id="settings">Settings</h2>
<table><tbody>${settings.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</tbody></table>
<h2 id="files">Files</h2>
<ul class="links">${report.links.map((l) => `<li><a href="${esc(relativeLink(absolute, l.path))}">${esc(l.label)}</a> <code>${esc(l.path)}</code></li>`).join('')}</ul>
${data}
</main></body></html>
`;
}

/** Writes `report` to `path` (normally `<run folder>/report.html`) and returns the path. */
export async function writeReport(path: string, report: RunReport): Promise<string> {
  const html = await reportHtml(report, path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, html);
  } catch (e) {
    throw new ReportWriteError(path, { cause: e });
  }
  return path;
}
