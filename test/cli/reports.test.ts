import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { runCli as run } from '../helpers/cli.ts';
import { checkReportInChromium, chromiumMissing } from '../helpers/chromium.ts';

const figureIds = (html: string) => [...html.matchAll(/data-figure="([^"]+)"/g)].map((m) => m[1]);

describe('report.html in run folders (train, deploy --log, replay, eval), --no-report', () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'armbridge-reports-'));
    data = join(dir, 'demos.mcap');
    await rollout({ arm: 'so101', seed: 3, episodes: 8, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('train writes the loss figure with the kept epoch, settings and links; --no-report writes none', async () => {
    const r = await run('train', data, '--out', join(dir, 'm'), '--epochs', '3', '--hidden', '16', '--backend', 'cpu', '--select', 'off');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`report ${join(dir, 'm', 'report.html')}`);
    const html = await readFile(join(dir, 'm', 'report.html'), 'utf8');
    expect(figureIds(html)).toEqual(['loss']);
    expect(html).toContain('kept: epoch');
    expect(html).toContain('href="policy.onnx"');
    expect(html).toContain('<th>hidden</th><td>16</td>');
    const q = await run('train', data, '--out', join(dir, 'quiet'), '--epochs', '1', '--hidden', '8', '--backend', 'cpu', '--select', 'off', '--no-report');
    expect(q.code, q.err).toBe(0);
    expect(existsSync(join(dir, 'quiet', 'policy.onnx'))).toBe(true);
    expect(existsSync(join(dir, 'quiet', 'report.html'))).toBe(false);
  });

  it('deploy --log writes the period, inference and safety figures next to the run log, and it renders in Chromium', async () => {
    await mkdir(join(dir, 'deploy'));
    const log = join(dir, 'deploy', 'run.mcap');
    const r = await run('deploy', '--model', join(dir, 'm', 'policy.onnx'), '--sim', '--in-process', '--duration-s', '3', '--log', log);
    expect(r.code, r.err).toBe(0);
    const path = join(dir, 'deploy', 'report.html');
    expect(figureIds(await readFile(path, 'utf8'))).toEqual(['deploy-period', 'deploy-inference', 'deploy-safety']);
    if (chromiumMissing) return; // the browser half needs chromium (CI installs it)
    const c = await checkReportInChromium(path, join(dir, 'deploy', 'report.png'));
    expect(c.figures.every((f) => f.rendered && f.marks > 20)).toBe(true);
    expect(c.consoleErrors).toEqual([]);
    expect(c.requests).toEqual([]);
    expect(c.browserExited).toBe(true);
  });

  it('replay --to policy writes an SVG per joint and a report with every joint; eval writes its report in --out', async () => {
    const out = join(dir, 'replay');
    const r = await run('replay', data, '--model', join(dir, 'm', 'policy.onnx'), '--out', out);
    expect(r.code, r.err).toBe(0);
    const joints = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
    for (const j of joints) expect(await readFile(join(out, `${j}.svg`), 'utf8')).toMatch(/^<svg[\s\S]*recorded[\s\S]*predicted[\s\S]*<\/svg>$/);
    expect(figureIds(await readFile(join(out, 'report.html'), 'utf8'))).toEqual(joints.map((j) => `joint-${j}`));
    const e = await run('eval', '--model', join(dir, 'm', 'policy.onnx'), '--episodes', '2', '--out', join(dir, 'eval'), '--json');
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out)).toHaveProperty('successRate'); // the report does not disturb --json
    expect(figureIds(await readFile(join(dir, 'eval', 'report.html'), 'utf8'))).toEqual(['success-return', 'returns', 'final-distance']);
  });
});
