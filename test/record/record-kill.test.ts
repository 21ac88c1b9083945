import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectRecording } from '../../src/record/inspect.ts';
import { readRecording } from '../../src/record/read.ts';
import { recoverRecording } from '../../src/record/recover.ts';

const bin = fileURLToPath(new URL('../../bin/armbridge.js', import.meta.url));
const wallNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

describe('a recording killed with SIGKILL', () => {
  it('recovers every completed episode intact and the cut one up to ≤ 100 ms before the kill', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-kill-'));
    const out = join(dir, 'killed.mcap');
    const child = spawn(process.execPath, [bin, 'record', '--sim', '--in-process', '--rate', '100', '--episodes', '10', '--episode-s', '1.5', '--reset-s', '0.3', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // Wait until the third episode has been going for a while, then kill without warning.
    const deadline = Date.now() + 60_000;
    while (!output.includes('episode 2:') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    expect(output).toContain('episode 2:');
    await new Promise((r) => setTimeout(r, 700));
    const killedAt = wallNs();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const cut = await inspectRecording(out);
    expect(cut.complete).toBe(false);
    const report = await recoverRecording(out);
    const rec = await readRecording(report.output);
    const episodes = (await inspectRecording(report.output)).episodes;
    expect(episodes.map((e) => e.index)).toEqual([0, 1, 2]);
    for (const e of episodes.slice(0, 2)) {
      expect(e.endNs).toBeDefined();
      expect(e.durationS).toBeGreaterThanOrEqual(1.45);
      expect(e.samples).toBeGreaterThan(0);
      expect(e.outcome).not.toBe('unlabelled');
    }
    const last = episodes[2]!;
    expect(last.endNs).toBeUndefined();
    const lastLog = rec.messages.reduce((a, m) => (m.logTimeNs > a ? m.logTimeNs : a), 0n);
    const lostMs = Number(killedAt - lastLog) / 1e6;
    console.log(`lost ${lostMs.toFixed(1)} ms of the cut episode`);
    expect(lostMs).toBeGreaterThanOrEqual(0);
    expect(lostMs).toBeLessThanOrEqual(100);
  }, 90_000);
});
