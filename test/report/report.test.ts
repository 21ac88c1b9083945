import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FigureRenderError, ReportWriteError } from '../../src/report/errors.ts';
import { histogramFigure, lossCurveFigure, percentileOf, safetyFigure } from '../../src/report/figures.ts';
import { reportHtml, writeReport } from '../../src/report/html.ts';
import { renderSvg } from '../../src/report/render.ts';
import { everyFigureReport } from './fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('run report figures (Vega-Lite rendered to SVG in Node)', () => {
  it('renders the loss curve with the kept checkpoint labelled and the selection scores in their own panel', async () => {
    const history = Array.from({ length: 20 }, (_, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), valLoss: 2 / (i + 1) }));
    const svg = await renderSvg(lossCurveFigure('loss', { title: 'bc: loss', history, keptEpoch: 20, selectionScores: [{ epoch: 10, score: 0.4 }, { epoch: 20, score: 0.6 }] }));
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(svg).toContain('kept: epoch 20');
    expect(svg).toContain('success on selection targets (%)');
    expect(svg).toContain('validation');
    // Without selection scores there is no second panel.
    const plain = await renderSvg(lossCurveFigure('loss', { title: 'bc: loss', history, keptEpoch: 7 }));
    expect(plain).toContain('kept: epoch 7');
    expect(plain).not.toContain('selection targets');
  });

  it('marks p50 and p99 on histograms with the values computed on the full data', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentileOf(values, 50)).toBe(500);
    expect(percentileOf(values, 99)).toBe(990);
    const svg = await renderSvg(histogramFigure('h', 'latency', values, 'µs'));
    expect(svg).toContain('p50 500 µs');
    expect(svg).toContain('p99 990 µs');
  });

  it('says so when a run had no safety interventions', async () => {
    expect(await renderSvg(safetyFigure('s', 'safety', [], 12))).toContain('no safety interventions in 12.0 s');
  });

  it('raises FigureRenderError for a spec the library refuses', async () => {
    await expect(renderSvg({ id: 'bad', title: 'bad', spec: { mark: 'nonsense' } as never })).rejects.toBeInstanceOf(FigureRenderError);
  });

  it('writes one self-contained report.html: inline SVG per figure, inline data, no external reference, links relative to the report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-report-'));
    dirs.push(dir);
    const r = everyFigureReport();
    const path = await writeReport(join(dir, 'report.html'), { ...r, links: [{ label: 'model', path: join(dir, 'model', 'policy.onnx') }] });
    const html = await readFile(path, 'utf8');
    expect(html.match(/<figure /g)?.length).toBe(r.figures.length);
    expect(html.match(/<svg /g)?.length).toBe(r.figures.length);
    expect(html).toContain('href="model/policy.onnx"');
    expect(html).toContain('<script type="application/json" id="run-data">');
    // Nothing to fetch: no src attributes, no stylesheet links, no http(s) URL except SVG's namespaces.
    expect(html).not.toMatch(/\ssrc=/);
    expect(html).not.toMatch(/<link\s/);
    const urls = (html.match(/https?:\/\/[^"'\s)]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
    expect(urls).toEqual([]);
  });

  it('raises ReportWriteError naming the path when the folder cannot be made', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-report-'));
    dirs.push(dir);
    await writeFile(join(dir, 'a-file'), '');
    const path = join(dir, 'a-file', 'report.html');
    const err = await writeReport(path, { title: 't', settings: {}, figures: [], tables: [], links: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportWriteError);
    expect((err as ReportWriteError).code).toBe('REPORT_WRITE');
    expect((err as ReportWriteError).message).toContain(path);
  });

  it('escapes text from the run (a method called <script> stays text)', async () => {
    const html = await reportHtml({ title: '<script>alert(1)</script>', settings: { x: '</script>' }, figures: [], tables: [], links: [], data: { s: '</script>' } }, 'report.html');
    expect(html).not.toContain('<script>alert');
    expect(html.match(/<\/script>/g)?.length).toBe(1); // the JSON block's own end tag
  });
});
