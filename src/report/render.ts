/**
 * Figures as SVG, rendered in Node without a browser.
 *
 * Why Vega-Lite + Vega: a figure is a declarative spec (data + encodings), which keeps the code
 * that builds figures short and testable; the Vega runtime renders it headless to SVG with
 * `View.toSVG()` (renderer 'none': no DOM, no canvas; text widths are estimated), and both are
 * maintained by the University of Washington IDL with regular releases. Alternatives considered:
 * Observable Plot and d3 need a DOM (jsdom) in Node; chart.js and ECharts' SSR need a canvas or
 * their own SVG renderer with fewer statistical marks (error bars, binning, rules).
 *
 * This module imports nothing of armbridge's but the error root (DESIGN.md §2: workflows and the
 * CLI compose it). vega and vega-lite (≈0.4 s to load) are imported on the first figure, so
 * importing this module, and `armbridge --help`, stay fast.
 */
import type { View } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { FigureRenderError } from './errors.ts';

export type { TopLevelSpec };

/** A figure: a title (also the file name stem where it is saved) and its Vega-Lite spec. */
export interface Figure {
  /** Stable id: used as the file name stem (`<id>.svg`) and the HTML anchor. */
  readonly id: string;
  readonly title: string;
  /** One sentence under the figure: what it shows and how to read it. */
  readonly caption?: string;
  readonly spec: TopLevelSpec;
}

/** Shared look: readable on a laptop screen, white background, no interaction. */
const CONFIG = {
  background: 'white',
  font: 'sans-serif',
  title: { fontSize: 14, anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e8e8e8' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', direction: 'horizontal' },
  view: { stroke: '#ccc' },
} as const;

/** Renders a figure to a standalone SVG document (no scripts, no external references). */
export async function renderSvg(figure: Figure): Promise<string> {
  let view: View | undefined;
  try {
    const [{ parse, View: VegaView }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
    const spec = { ...figure.spec, config: { ...CONFIG, ...(figure.spec.config ?? {}) } } as TopLevelSpec;
    const compiled = compile(spec).spec;
    view = new VegaView(parse(compiled), { renderer: 'none', logLevel: 0 });
    return await view.toSVG();
  } catch (e) {
    throw new FigureRenderError(figure.title, { cause: e });
  } finally {
    view?.finalize();
  }
}
