import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecording } from '../../src/record/read.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { PtySimServer } from '../../src/sim/pty-server.ts';
import { identityPolicy } from '../helpers/models.ts';
import { runCli as run } from '../helpers/cli.ts';
import { hasSocat } from '../helpers/socat.ts';

describe('armbridge deploy on a port (the real-arm path)', () => {
  it('refuses a malformed --target and a model that needs a target when none is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dcli-'));
    const m = await identityPolicy(dir, { withTarget: true });
    expect(await run('deploy', '--model', m, '--follower', '/nonexistent/tty', '--target', '1,2')).toMatchObject({ code: 2, err: expect.stringMatching(/--target wants three numbers/) });
    const r = await run('deploy', '--model', m, '--follower', '/nonexistent/tty', '--rt-priority', '0', '--follower-calibration', 'calibration/so101-follower.sim.json');
    expect(r.code).toBe(1);
    // Refused before the port is opened, naming what supplies the missing observation.
    expect(r.err).toMatch(/does not fit this arm: it observes follower\.position\[6\] \+ target\.position\[3\], and nothing supplies target\.position \(recorded from \/target_pose\); give --target x,y,z .*armbridge ros deploy.*--obs follower\.position \[MODEL_MISMATCH\]/);
    expect(r.err).not.toMatch(/nonexistent/);
  });

  it.skipIf(!hasSocat)('runs the model in the worker on a real pty with a fixed target, logs the run, parks, and leaves torque off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-dcli-'));
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    const link = join(dir, 'follower');
    const server = await PtySimServer.start({ bus: sim.bus, link });
    try {
      const log = join(dir, 'run.mcap');
      const r = await run('deploy', '--model', await identityPolicy(dir, { withTarget: true }), '--follower', link, '--target', '0.3,0,0.2', '--rate', '100', '--duration-s', '1', '--rt-priority', '0', '--follower-calibration', 'calibration/so101-follower.sim.json', '--log', log);
      expect(r.code).toBe(0);
      // The live status line (on a terminal rewritten in place; here, a line every 5 s).
      expect(r.err).toMatch(/^\d+ cycles +\d+ Hz +period jitter p99 \d+ µs +inference p99 \d+ µs +\d+ overruns +\d+ safety interventions$/m);
      expect(r.out).toMatch(/loop in a worker thread at normal priority/);
      expect(r.out).toMatch(/\d+ cycles in .* Hz \(asked 100\)/);
      expect(sim.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
      const rec = await readRecording(log);
      expect(rec.complete).toBe(true);
      expect(rec.messages.filter((m) => m.topic === '/policy/action').length).toBeGreaterThan(10);
    } finally {
      await server.close();
      sim.bus.close();
    }
  });
});
