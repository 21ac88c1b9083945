import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { LoopSpecError } from '../../src/control/errors.ts';
import { runLoopInWorker } from '../../src/control/loop-host.ts';
import { replayToArmInWorker } from '../../src/replay/to-arm-worker.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { serveSimArm } from '../../src/workflows/sim-port.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { shippedCalibration } from '../helpers/arms.ts';
import { hasSocat } from '../helpers/socat.ts';

describe.skipIf(!hasSocat)('replay --to arm in the loop worker (the worker owns the follower, over a real pty)', () => {
  it('reproduces the episode, parks after it; a stop ends it early; an e-stop cuts torque and throws', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-replay-worker-'));
    const data = join(dir, 'd.mcap');
    await rollout({ arm: 'so101', seed: 12, episodes: 2, episodeS: 2, rateHz: 25, driver: { kind: 'operator', mix: { expert: 1 } }, out: data });
    const sim = createSimArm({ arm: 'so101', role: 'follower' });
    const port = await serveSimArm(sim, 'pty');
    const calibration = await shippedCalibration('so101', 'follower');
    const arm = { kind: 'so101' as const, calibration, path: port.path };
    try {
      const r = await replayToArmInWorker({ file: data, episode: 1, arm, rateHz: 25, park: { speed: 1.5, timeoutS: 5 } });
      expect(r.sent).toBe(50);
      expect(r.tracking!.samples).toBeGreaterThanOrEqual(40);
      expect(r.tracking!.meanAbsRad).toBeLessThan(0.05);
      expect(r.safety.faults).toBe(0);
      // Parked: torque off after the normal end.
      expect(sim.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);

      const stop = new AbortController();
      setTimeout(() => stop.abort(), 1200);
      const s = await replayToArmInWorker({ file: data, episode: 1, arm, rateHz: 25, signal: stop.signal, park: false });
      expect(s.tracking?.samples ?? 0).toBeLessThan(50);

      const estop = new AbortController();
      setTimeout(() => estop.abort('the operator pressed the red button'), 1200);
      const err = await replayToArmInWorker({ file: data, episode: 1, arm, rateHz: 25, estop: estop.signal }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(/e-stop: the operator pressed the red button/);
      expect(sim.bus.servos.every((x) => !x.torqueEnabled)).toBe(true);
    } finally {
      await port.close();
    }
    const noBody = await runLoopInWorker({ kind: 'replay', arm, rateHz: 25 }).catch((e: unknown) => e);
    expect(noBody).toBeInstanceOf(LoopSpecError);
  });
});
