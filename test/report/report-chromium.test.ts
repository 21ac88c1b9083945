import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/html.ts';
import { checkReportInChromium, chromiumMissing } from '../helpers/chromium.ts';
import { everyFigureReport } from './fixtures.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

// CI installs Debian's chromium (.ci/run); elsewhere the test says why it did not run.
describe.skipIf(chromiumMissing !== undefined)(`report.html in headless Chromium${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  it('renders every figure, logs no console error, requests nothing, and the screenshot is not blank', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-report-'));
    dirs.push(dir);
    const report = everyFigureReport();
    const path = await writeReport(join(dir, 'report.html'), report);
    const shot = join(dir, 'report.png');
    const check = await checkReportInChromium(path, shot);
    expect(check.title).toBe(report.title);
    expect(check.figures.map((f) => f.id)).toEqual(report.figures.map((f) => f.id));
    for (const f of check.figures) {
      expect(f.rendered, f.id).toBe(true);
      expect(f.marks, f.id).toBeGreaterThan(20);
      expect(f.widthPx, f.id).toBeLessThanOrEqual(1366); // fits a laptop screen
    }
    expect(check.consoleErrors).toEqual([]);
    expect(check.requests).toEqual([]);
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    expect(check.inkFraction).toBeGreaterThan(0.01);
    expect(check.colours).toBeGreaterThan(50);
    expect(check.browserExited).toBe(true);
  });

  it('notices what it is meant to catch: a request to the network and a broken figure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-report-'));
    dirs.push(dir);
    const path = await writeReport(join(dir, 'report.html'), everyFigureReport());
    const html = await readFile(path, 'utf8');
    const { writeFile } = await import('node:fs/promises');
    // A figure without its SVG and an image from a server: both must show up in the check.
    const broken = html.replace(/<figure id="period" data-figure="period"><svg[\s\S]*?<\/svg>/, '<figure id="period" data-figure="period">').replace('<h2 id="figures">', '<img src="http://192.0.2.1/x.png"><h2 id="figures">');
    await writeFile(path, broken.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''));
    const check = await checkReportInChromium(path, join(dir, 'broken.png'));
    expect(check.figures.find((f) => f.id === 'period')?.rendered).toBe(false);
    expect(check.requests).toEqual(['http://192.0.2.1/x.png']);
    expect(check.browserExited).toBe(true);
  });
});
