/**
 * Deploying a policy on the simulated follower: the reach task publishes a new target every
 * `episodeS`, the policy sees the follower's joints and the target, the loop runs at `rateHz`
 * through the SafetyFilter, and each episode is scored by the task. What `armbridge deploy --sim` runs.
 */
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { runDeploy, type DeployResult } from '../control/deploy-loop.ts';
import { OnnxPolicy } from '../control/onnx-policy.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../record/recorder.ts';
import type { SimArmKind } from '../sim/presets.ts';
import { SimWorld } from '../sim/world.ts';
import { simCalibrationPath } from './paths.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

/** Where simulated demonstrations start each episode (physical radians), as in sim-rollout.ts. */
const START_POSE: Readonly<Record<SimArmKind, readonly number[]>> = {
  so101: [0, -0.2, 0.3, 0.4, 0, 0.5],
  koch: [0, -0.2, 0.3, -0.5, 0, -0.4],
};

export interface SimDeployOptions {
  readonly arm: SimArmKind;
  readonly model: string;
  readonly rateHz: number;
  readonly durationS: number;
  readonly episodeS?: number;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  readonly log?: string;
  readonly estop?: AbortSignal;
  readonly say?: (line: string) => void;
}

export interface SimDeployResult extends DeployResult {
  readonly transport: 'pty' | 'in-process';
  readonly episodes: number;
  readonly successes: number;
  readonly meanReward: number;
}

export async function deploySim(options: SimDeployOptions): Promise<SimDeployResult> {
  const world = new SimWorld({ arm: options.arm, seed: options.seed ?? 9 });
  const say = options.say ?? (() => undefined);
  let port: SimPort | undefined;
  let arm: Arm | undefined;
  let policy: OnnxPolicy | undefined;
  let recorder: Recorder | undefined;
  try {
    // The environment's reset: the follower starts where the demonstrations started.
    world.follower.bus.servos.forEach((s, i) => s.moveTo(world.follower.zeroCounts[i]! + (START_POSE[options.arm][i] ?? 0) * (4096 / (2 * Math.PI))));
    port = await serveSimArm(world.follower, options.transport ?? 'pty');
    const calibration = await loadCalibration(simCalibrationPath(options.arm, 'follower'));
    arm = await Arm.open({ profile: armProfile(options.arm, 'follower'), calibration, path: port.path, binding: port.binding, bus: { timeoutMs: port.transport === 'pty' ? 100 : 20 } });
    policy = await OnnxPolicy.load(options.model, {
      jointNames: arm.names,
      observation: [
        { name: 'follower.position', size: arm.size },
        { name: 'target.position', size: 3 },
      ],
    });
    say(`deploying ${options.model} (${policy.metadata.algo}, trained on ${policy.metadata.trainingBackend}) on the simulated ${options.arm} follower at ${options.rateHz} Hz over ${port.transport === 'pty' ? `a real pty (${port.path})` : 'the in-process binding'}\n`);
    if (options.log) {
      recorder = await Recorder.create({ path: options.log, overwrite: true }, { arm: options.arm, rate_hz: String(options.rateHz), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: `policy ${options.model}`, simulated: 'true', joint_names: arm.names.join(',') });
    }
    const episodeS = options.episodeS ?? 3;
    let target = world.task.sampleTarget(world.rng).position;
    let nextMs = episodeS * 1000;
    let episodes = 1;
    let successes = 0;
    let success = false;
    let rewardSum = 0;
    let rewardN = 0;
    const result = await runDeploy({
      follower: arm,
      policy,
      rateHz: options.rateHz,
      durationS: options.durationS,
      estop: options.estop,
      recorder,
      observeExtra: () => target,
      onCycle: (c) => {
        const ev = world.evaluate();
        rewardSum += ev.reward;
        rewardN++;
        success = ev.success;
        if (c.tMs >= nextMs) {
          if (success) successes++;
          target = world.task.sampleTarget(world.rng).position;
          nextMs += episodeS * 1000;
          episodes++;
        }
      },
    });
    if (success) successes++;
    await parkArm(arm, { speed: 1.5, timeoutS: 5 }).catch(() => undefined);
    return { ...result, transport: port.transport, episodes, successes, meanReward: rewardN ? rewardSum / rewardN : NaN };
  } finally {
    await recorder?.close().catch(() => undefined);
    await policy?.close();
    await arm?.close();
    await port?.close();
    world.close();
  }
}
