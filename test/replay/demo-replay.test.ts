import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runReplayDemo } from '../../src/workflows/demo-replay.ts';
import { recordSim } from '../../src/workflows/record-sim.ts';

describe('demo stage: replay the recording on the simulated follower', () => {
  it('replays an episode of a real-time recording, reports the tracking error, and says what ROS 2 would get', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-demo-replay-'));
    const file = join(dir, 'demonstrations.mcap');
    await recordSim({ arm: 'so101', out: file, rateHz: 100, episodes: 1, episodeS: 2, resetS: 0.3, mix: { expert: 1 }, seed: 11, transport: 'in-process' });
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const r = await runReplayDemo({ recordingFile: file, runDir: dir, out, fast: true });
    expect(r.episode).toBe(0);
    const { inspectRecording } = await import('../../src/record/inspect.ts');
    const recorded = (await inspectRecording(file)).episodes[0]!.samples;
    expect(r.sent).toBeGreaterThan(50);
    expect(r.tracking!.samples).toBeGreaterThanOrEqual(Math.floor(0.7 * Math.min(r.sent, recorded)));
    expect(r.tracking!.meanAbsRad).toBeLessThan(0.05);
    expect(r.safety.faults).toBe(0);
    expect(text).toMatch(/tracking error over \d+ samples: mean 0\.\d{4} rad/);
    if (!process.env.ROS_DISTRO) {
      expect(r.ros.sourced).toBe(false);
      expect(text).toMatch(/ROS 2: ROS 2 is not sourced/);
      expect(r.ros.jointStateMessages).toBe(recorded);
      expect(text).toMatch(/follower states become sensor_msgs\/msg\/JointState on \/joint_states/);
    }
    expect(JSON.parse(await readFile(r.summaryFile, 'utf8')).episode).toBe(0);
  }, 60_000);
});
