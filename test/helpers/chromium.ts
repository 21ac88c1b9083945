/**
 * Opens a run report in headless Chromium (Debian's `chromium`, driven by puppeteer-core) and
 * reports what a person would see: which figures hold a rendered SVG, console errors, every
 * request the page tried to make (all refused, so nothing leaves the machine), and whether the
 * screenshot has any content. The browser is always closed, and its process is awaited.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;

export interface FigureCheck {
  readonly id: string;
  /** The figure holds an <svg> with a non-empty box. */
  readonly rendered: boolean;
  /** Drawn marks (path, line, rect, text… elements) inside the SVG. */
  readonly marks: number;
  readonly widthPx: number;
  readonly heightPx: number;
}

export interface ReportCheck {
  readonly title: string;
  readonly figures: readonly FigureCheck[];
  readonly consoleErrors: readonly string[];
  /** URLs the page asked for besides the report itself (each was refused). */
  readonly requests: readonly string[];
  /** Share of screenshot pixels that are not (near) white, 0…1. */
  readonly inkFraction: number;
  /** Distinct colours in the screenshot (a blank page has one or two). */
  readonly colours: number;
  /** The browser process had exited when the check returned. */
  readonly browserExited: boolean;
}

export async function checkReportInChromium(reportPath: string, screenshotPath: string): Promise<ReportCheck> {
  const url = pathToFileURL(resolve(reportPath)).href;
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const proc = browser.process();
  let result: Omit<ReportCheck, 'browserExited'>;
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 768 }); // a laptop screen
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      if (r.url() === url) void r.continue();
      else {
        requests.push(r.url());
        void r.abort();
      }
    });
    await page.goto(url, { waitUntil: 'load' });
    const title = await page.title();
    const figures = await page.$$eval('figure[data-figure]', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: el.getAttribute('data-figure') ?? '',
          rendered: !!svg && !!box && box.width > 0 && box.height > 0,
          marks: svg ? svg.querySelectorAll('path, line, rect, text, circle').length : 0,
          widthPx: box?.width ?? 0,
          heightPx: box?.height ?? 0,
        };
      }),
    );
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    await writeFile(screenshotPath, png);
    // Decode the screenshot in a blank page of the same browser (no request: a data URL).
    const blank = await browser.newPage();
    const ink = await blank.evaluate(async (b64: string) => {
      // Runs in the page (this project's tsconfig has no DOM lib): the few DOM types it uses.
      interface Img { src: string; width: number; height: number; decode(): Promise<void> }
      interface Ctx { drawImage(i: Img, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }
      interface Canvas { width: number; height: number; getContext(kind: '2d'): Ctx | null }
      const g = globalThis as unknown as { Image: new () => Img; document: { createElement(tag: 'canvas'): Canvas } };
      const img = new g.Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = g.document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      let inked = 0;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) {
        if (d[i]! < 235 || d[i + 1]! < 235 || d[i + 2]! < 235) inked++;
        if (colours.size < 10_000) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      }
      return { inkFraction: inked / (d.length / 4), colours: colours.size };
    }, Buffer.from(png).toString('base64'));
    result = { title, figures, consoleErrors, requests, ...ink };
  } finally {
    await browser.close();
    if (proc && proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
  }
  return { ...result, browserExited: processGone(proc?.pid) };
}

/** True when the process with this pid no longer exists. */
export function processGone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
