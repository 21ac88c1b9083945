/**
 * `tsx scripts/check-report.ts RUN/report.html [SCREENSHOT.png] [--expect id,prefix-,…]`: opens a run report in headless
 * Chromium and fails unless every figure rendered, the console stayed clean, nothing was requested
 * and the screenshot is not blank; `--expect` lists figure ids (or id prefixes ending in '-') that
 * must be among them. CI runs it on the demo's report. Without Chromium it says why
 * and exits 0 (as the browser test skips).
 */
import { checkReportInChromium, chromiumMissing } from '../test/helpers/chromium.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--expect');
const expected = at >= 0 ? (args.splice(at, 2)[1] ?? '').split(',').filter(Boolean) : [];
const [report, shot = `${args[0] ?? 'report'}.png`] = args;
if (!report) {
  process.stderr.write('usage: tsx scripts/check-report.ts RUN/report.html [SCREENSHOT.png]\n');
  process.exit(2);
}
if (chromiumMissing) {
  process.stdout.write(`report check skipped: ${chromiumMissing}\n`);
  process.exit(0);
}
const c = await checkReportInChromium(report, shot);
const problems = [
  ...c.figures.filter((f) => !f.rendered || f.marks < 20).map((f) => `figure ${f.id} did not render (${f.marks} marks)`),
  ...c.consoleErrors.map((e) => `console error: ${e}`),
  ...c.requests.map((u) => `request: ${u}`),
  ...(c.figures.length === 0 ? ['no figures'] : []),
  ...expected.filter((e) => !c.figures.some((f) => (e.endsWith('-') ? f.id.startsWith(e) : f.id === e))).map((e) => `expected figure ${e} is missing`),
  ...(c.inkFraction < 0.01 || c.colours < 50 ? [`screenshot ${shot} looks blank (${(c.inkFraction * 100).toFixed(2)} % ink, ${c.colours} colours)`] : []),
  ...(c.browserExited ? [] : ['the browser process outlived the check']),
];
process.stdout.write(`${report}: ${c.figures.length} figures rendered in Chromium (${c.figures.map((f) => f.id).join(', ')}), ${c.consoleErrors.length} console errors, ${c.requests.length} requests, screenshot ${shot} (${(c.inkFraction * 100).toFixed(1)} % ink)\n`);
for (const p of problems) process.stdout.write(`problem: ${p}\n`);
process.exit(problems.length ? 1 : 0);
