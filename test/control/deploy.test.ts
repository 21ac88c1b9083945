import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JointConverter } from '../../src/arm/calibration.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { runDeploy } from '../../src/control/deploy-loop.ts';
import { ModelLoadError, ModelMismatchError } from '../../src/control/errors.ts';
import { OnnxPolicy } from '../../src/control/onnx-policy.ts';
import { openSimArm, shippedCalibration } from '../helpers/arms.ts';
import { identityPolicy, SO101_JOINTS, type LinearPolicyOptions } from '../helpers/models.ts';

const JOINTS = SO101_JOINTS;

/** action = weight·obs + bias (identity by default); `meta` overrides the metadata, null drops it. */
const model = async (opts: LinearPolicyOptions = {}) => identityPolicy(await mkdtemp(join(tmpdir(), 'armbridge-ctl-')), opts);

const expectation = { jointNames: JOINTS, observation: [{ name: 'follower.position', size: 6 }] };

describe('OnnxPolicy', () => {
  it('refuses a missing file, a model without armbridge metadata, and one trained for other joints or observations', async () => {
    await expect(OnnxPolicy.load('/nonexistent/p.onnx', expectation)).rejects.toBeInstanceOf(ModelLoadError);
    await expect(OnnxPolicy.load(await model({ meta: null }), expectation)).rejects.toThrow(/has no armbridge metadata/);
    const other = await OnnxPolicy.load(await model({ meta: { jointNames: ['a', 'b', 'c', 'd', 'e', 'f'] } }), expectation).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ModelMismatchError);
    expect((other as Error).message).toMatch(/trained on joints \[a,b,c,d,e,f\], this arm has \[shoulder_pan,/);
    await expect(OnnxPolicy.load(await model(), { ...expectation, observation: [...expectation.observation, { name: 'target.position', size: 3 }] })).rejects.toThrow(/expects observation .* the loop provides/);
    const bad = join(await mkdtemp(join(tmpdir(), 'armbridge-ctl-')), 'bad.onnx');
    await writeFile(bad, 'not a model');
    await expect(OnnxPolicy.load(bad, expectation)).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('runs the identity policy: action = observation', async () => {
    const p = await OnnxPolicy.load(await model(), expectation);
    expect(Array.from(await p.infer([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])));
    await p.close();
  });
});

describe('deploy loop on the simulated follower', () => {
  it('holds still under the identity policy and keeps a hostile (huge) policy inside the limits', async () => {
    const cal = await shippedCalibration('so101', 'follower');
    const conv = armProfile('so101', 'follower').joints.map((j) => new JointConverter(j, cal.joints[j.name]!));
    for (const weight of [1, 1e6]) {
      const { arm, sim, close } = await openSimArm('so101', 'follower', cal);
      const policy = await OnnxPolicy.load(await model({ weight, bias: weight === 1 ? 0 : 5 }), expectation);
      try {
        const goals: number[][] = [];
        const r = await runDeploy({ follower: arm, policy, rateHz: 100, durationS: 0.5, readTimeoutMs: 50, onCycle: () => goals.push(sim.bus.servos.map((s) => s.get('Goal_Position'))) });
        expect(r.cycles).toBeGreaterThan(0);
        for (const g of goals) g.forEach((t, i) => expect(t >= conv[i]!.rangeMin && t <= conv[i]!.rangeMax).toBe(true));
        if (weight === 1) expect(r.safety.clampedCycles).toBe(0);
        else expect(r.safety.clampedCycles).toBeGreaterThan(0);
      } finally {
        await policy.close();
        await close();
      }
    }
  });

  it('refuses NaN actions: holds the last safe command and counts them', async () => {
    const { arm, close } = await openSimArm('so101', 'follower');
    const policy = await OnnxPolicy.load(await model({ weight: Number.NaN }), expectation);
    try {
      const r = await runDeploy({ follower: arm, policy, rateHz: 100, durationS: 0.3, readTimeoutMs: 50 });
      expect(r.safety.nonFinite).toBeGreaterThan(0);
      expect(r.safety.nonFinite).toBe(r.safety.holds);
    } finally {
      await policy.close();
      await close();
    }
  });

  it('a follower that stops answering: hold, then torque off and SafetyStopError naming the servo', async () => {
    const { arm, sim, close } = await openSimArm('so101', 'follower');
    const policy = await OnnxPolicy.load(await model(), expectation);
    try {
      let cycles = 0;
      const err = await runDeploy({
        follower: arm,
        policy,
        rateHz: 100,
        durationS: 5,
        readTimeoutMs: 10,
        onCycle: () => {
          if (++cycles === 10) sim.bus.servo(3).faults.silent = true;
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(/lost the arm state: servo 3 did not answer/);
      expect(sim.bus.servos.filter((s) => s.id !== 3).every((s) => !s.torqueEnabled)).toBe(true);
    } finally {
      sim.bus.servo(3).faults.silent = false;
      await policy.close();
      await close({ torqueOff: false });
    }
  });

  it('an e-stop (SIGINT) holds and cuts torque at once', async () => {
    const { arm, sim, close } = await openSimArm('so101', 'follower');
    const policy = await OnnxPolicy.load(await model(), expectation);
    const estop = new AbortController();
    try {
      setTimeout(() => estop.abort(), 200);
      const err = await runDeploy({ follower: arm, policy, rateHz: 100, durationS: 5, estop: estop.signal, readTimeoutMs: 50 }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/safety stop: e-stop: interrupted/);
      expect(sim.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    } finally {
      await policy.close();
      await close({ torqueOff: false });
    }
  });
});
