/**
 * Fast, virtual-time rollouts on the simulated task, for generating demonstrations in bulk and for
 * evaluating policies over many episodes. The servos' own dynamics run on a manual clock, commands
 * go through the same calibration conversion and SafetyFilter as on the wire, but without waiting
 * for real time (a 3 s episode takes milliseconds). Recordings written this way use the virtual
 * time as log time and say so in their metadata (`virtual_time: true`).
 */
import * as ort from 'onnxruntime-node';
import { JointConverter, loadCalibration } from '../arm/calibration.ts';
import { armProfile } from '../arm/profiles.ts';
import { SafetyFilter } from '../arm/safety-filter.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import { ManualClock } from '../sim/clock.ts';
import type { FailureMode, Skill } from '../sim/operator.ts';
import type { SimArm, SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { PosePerception, type ObserveMode } from '../sim/perception.ts';
import { benchMetadata, type SimBench } from './sim-bench.ts';

export type { SimBench } from './sim-bench.ts';
import { ModelMismatchError } from '../control/errors.ts';
import { onnxMetadataProps } from '../control/onnx-metadata.ts';
import { propsToMetadata } from '../dataset/policy-metadata.ts';
import { describeLayout, featureSpec, type Layout } from '../dataset/features.ts';
import { readFile } from 'node:fs/promises';
import { simCalibrationPath } from './paths.ts';

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);
/** Where simulated demonstrations (and deployments on the simulated task) start, physical radians. */
const REST: Readonly<Record<SimArmKind, readonly number[]>> = {
  so101: [0, -0.2, 0.3, 0.4, 0, 0.5],
  koch: [0, -0.2, 0.3, -0.5, 0, -0.4],
};

/** Puts a simulated arm's joints at the start pose of the simulated task (no dynamics: a reset). */
export function moveToStartPose(arm: SimArm): void {
  arm.bus.servos.forEach((s, i) => s.moveTo(arm.zeroCounts[i]! + REST[arm.kind][i]! * COUNTS_PER_RAD));
}

/**
 * Who drives the follower: the scripted operator through the leader (teleop), the operator's hand
 * on the follower itself with its torque off (kinesthetic teaching: states only, no /action), or a policy.
 */
export type Driver =
  | { readonly kind: 'operator'; readonly mix: Partial<Record<Skill, number>>; /** Poor episodes: this failure mode (default drawn). */ readonly failure?: FailureMode }
  | { readonly kind: 'kinesthetic'; readonly mix: Partial<Record<Skill, number>> }
  | {
      readonly kind: 'policy';
      readonly model: string;
      /** The model's observation layout (default: its metadata's; a model without metadata: the joints and every pose the task publishes). */
      readonly observation?: Layout['observation'];
    };

/** What a policy observes, segment by segment: the follower's joints, or one of the task's published poses. */
type ObsSegment = { readonly kind: 'follower' } | { readonly kind: 'pose'; readonly index: number };

/** Maps a model's observation layout onto what the simulated task can give; refuses what it cannot. */
export function observationPlan(model: string, layout: Layout['observation'], joints: number, task: { readonly name: string; readonly features: readonly { readonly name: string; readonly topic: string }[] }, observe: ObserveMode): ObsSegment[] {
  return layout.map((f) => {
    if (f.name === 'follower.position') {
      if (f.size !== joints) throw new ModelMismatchError(model, `it observes ${f.size} follower joints, the simulated arm has ${joints}`);
      return { kind: 'follower' } as const;
    }
    const spec = featureSpec(f.name);
    const index = spec ? task.features.findIndex((t) => t.topic === spec.topic) : -1;
    if (!spec || spec.kind !== 'pose_position' || index < 0 || f.size !== 3) {
      throw new ModelMismatchError(model, `it observes ${f.name}, which the simulated ${task.name} task does not publish (it publishes ${task.features.map((t) => `${t.name} on ${t.topic}`).join(', ')}); observation ${describeLayout(layout)}`, `evaluate it with --task set to the task it was trained on, or train on recordings of this task`);
    }
    if (observe === 'arm') throw new ModelMismatchError(model, `it observes ${f.name}, but the bench observes the arm only (--observe arm)`, 'evaluate it with --observe poses (the task\'s poses as a perception node reports them), or train a joint-only model (--obs follower.position)');
    return { kind: 'pose', index } as const;
  });
}

async function modelLayout(model: string): Promise<Layout['observation'] | undefined> {
  return propsToMetadata(onnxMetadataProps(await readFile(model)))?.observation;
}

export interface RolloutOptions {
  readonly arm: SimArmKind;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly seed: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly rateHz: number;
  readonly driver: Driver;
  /** Write the rollouts as a recording (demonstrations, or policy runs for iterated RWR). */
  readonly out?: string;
  readonly overwrite?: boolean;
  /** Policy rollouts: Gaussian exploration noise added to each action (radians; gripper units). */
  readonly explorationStd?: number;
  /**
   * Policy rollouts: log-std of a per-episode gain g = exp(N(0, σ²)) on the commanded change,
   * command = q + g·(action − q). Exploration that persists through an episode (a bolder or a more
   * careful operator), so its effect on the return is large enough for return weighting to see;
   * per-step noise averages out over an episode. 0: none.
   */
  readonly explorationGain?: number;
  /** The bench: scene, what is observed, perception noise and latency, where returns come from. */
  readonly bench?: SimBench;
}

export interface RolloutEpisode {
  readonly index: number;
  readonly skill: string;
  readonly failure: string;
  readonly success: boolean;
  readonly return: number;
  /** The task's distance to done at the end: tool to target (reach), cube to goal (pick-place), m. */
  readonly finalDistanceM: number;
  /** The task's reason for the outcome: 'success', or why not (e.g. 'never_grasped', 'dropped'). */
  readonly outcome: string;
}

export interface RolloutResult {
  readonly episodes: RolloutEpisode[];
  readonly successRate: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
}

export async function rollout(options: RolloutOptions): Promise<RolloutResult> {
  const clock = new ManualClock();
  const kinesthetic = options.driver.kind === 'kinesthetic';
  const bench = options.bench ?? {};
  const observe = bench.observe ?? 'poses';
  const labelsOnly = (bench.rewards ?? 'sim') === 'labels';
  const world = new SimWorld({ arm: options.arm, seed: options.seed, clock, task: options.task, hand: kinesthetic ? 'follower' : 'leader', scene: bench.scene });
  const task = world.task;
  const perception = new PosePerception(task, { noiseM: bench.poseNoiseM, latencyMs: bench.poseLatencyMs, seed: options.seed });
  const profile = armProfile(options.arm, 'follower');
  const leaderProfile = armProfile(options.arm, 'leader');
  const fCal = await loadCalibration(simCalibrationPath(options.arm, 'follower'));
  const lCal = await loadCalibration(simCalibrationPath(options.arm, 'leader'));
  const fConv = profile.joints.map((j) => new JointConverter(j, fCal.joints[j.name]!));
  const lConv = leaderProfile.joints.map((j) => new JointConverter(j, lCal.joints[j.name]!));
  const n = profile.joints.length;
  // Servos as configured by Arm.open: calibration in the registers.
  world.follower.bus.servos.forEach((s, i) => {
    const c = fCal.joints[profile.joints[i]!.name]!;
    s.set('Homing_Offset', c.homing_offset);
    s.set('Min_Position_Limit', c.range_min);
    s.set('Max_Position_Limit', c.range_max);
  });
  world.leader.bus.servos.forEach((s, i) => s.set('Homing_Offset', lCal.joints[leaderProfile.joints[i]!.name]!.homing_offset));
  const plan: ObsSegment[] | undefined =
    options.driver.kind === 'policy'
      ? observationPlan(
          options.driver.model,
          options.driver.observation ?? (await modelLayout(options.driver.model)) ?? [{ name: 'follower.position', size: profile.joints.length }, ...task.features.map((f) => ({ name: f.name, size: 3 }))],
          profile.joints.length,
          task,
          observe,
        )
      : undefined;
  const session = options.driver.kind === 'policy' ? await ort.InferenceSession.create(options.driver.model, { intraOpNumThreads: 1 }) : undefined;
  const mix = options.driver.kind !== 'policy' ? options.driver.mix : {};
  const recorder = options.out
    ? await Recorder.create(
        { path: options.out, overwrite: options.overwrite, chunkIntervalMs: 1e9 },
        {
          arm: options.arm,
          task: task.name,
          rate_hz: String(options.rateHz),
          software: `armbridge ${ARMBRIDGE_VERSION}`,
          operator: options.driver.kind !== 'policy' ? `scripted${kinesthetic ? ', kinesthetic' : ''} (mix ${JSON.stringify(mix)})` : `policy ${options.driver.model}`,
          ...(kinesthetic ? { demonstration: 'kinesthetic', actions: 'none (states only: train derives labels from them)' } : {}),
          simulated: 'true',
          virtual_time: 'true',
          seed: String(options.seed),
          joint_names: profile.joints.map((j) => j.name).join(','),
          units: 'radians; gripper 0 (closed) … 1 (open)',
          follower_calibration: JSON.stringify(fCal),
          episode_s: String(options.episodeS),
          ...benchMetadata(bench),
        },
      )
    : undefined;
  const topics = recorder && {
    leader: kinesthetic ? undefined : await recorder.topic('/leader/joint_states', 'sensor_msgs/msg/JointState'),
    follower: await recorder.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
    action: kinesthetic ? undefined : await recorder.topic('/action', 'sensor_msgs/msg/JointState'),
    episode: await recorder.topic('/episode', 'std_msgs/msg/String'),
    poses: observe === 'poses' ? await Promise.all(task.features.map((f) => recorder.topic(f.topic, 'geometry_msgs/msg/PoseStamped'))) : [],
    reward: labelsOnly ? undefined : await recorder.topic('/reward', 'std_msgs/msg/Float64'),
    success: labelsOnly ? undefined : await recorder.topic('/task/success', 'std_msgs/msg/Bool'),
  };
  const names = profile.joints.map((j) => j.name);
  const t0 = 1_800_000_000_000_000_000n; // virtual wall time origin (2027-01-15)
  const dtMs = 1000 / options.rateHz;
  const episodes: RolloutEpisode[] = [];
  const follower = new Float64Array(n);
  const leader = new Float64Array(n);
  const obs = new Float32Array(plan ? plan.reduce((k, p) => k + (p.kind === 'follower' ? n : 3), 0) : 0);
  try {
    for (let e = 0; e < options.episodes; e++) {
      // Reset: both arms at the rest pose, torque on the follower holding it.
      world.operator.release();
      world.follower.bus.servos.forEach((s) => s.set('Torque_Enable', 0));
      moveToStartPose(world.follower);
      moveToStartPose(world.leader);
      clock.advanceMs(1);
      const readFollower = () => world.follower.bus.servos.forEach((s, i) => (follower[i] = fConv[i]!.toUnits((s.update(), s.get('Present_Position')))));
      readFollower();
      // Kinesthetic teaching: the follower stays limp and the hand moves it.
      if (!kinesthetic) {
        world.follower.bus.servos.forEach((s) => {
          s.set('Goal_Position', s.get('Present_Position'));
          s.set('Torque_Enable', 1);
        });
      }
      perception.reset();
      const skill = options.driver.kind !== 'policy' ? world.pickSkill(mix) : 'policy';
      const start = world.startEpisode(skill === 'policy' ? 'expert' : (skill as Skill), options.driver.kind === 'operator' ? options.driver.failure : undefined);
      if (options.driver.kind === 'policy') world.operator.release();
      const filter = new SafetyFilter({ names, lower: fConv.map((c) => c.lower), upper: fConv.map((c) => c.upper), maxStep: 4 / options.rateHz, now: () => clock.nowUs() / 1000 });
      filter.reset(follower);
      const ns = () => t0 + BigInt(Math.round(clock.nowUs() * 1000));
      const ev = (x: EpisodeEvent) => recorder?.log(topics!.episode, { data: JSON.stringify(x) }, ns());
      ev({ event: 'start', episode: e, operator: options.driver.kind !== 'policy' ? `scripted-${skill}` : 'policy', detail: { skill, failure: start.plan.failure, ...start.scene, ...(kinesthetic ? { hand: 'follower' } : {}) } });
      const gain = options.explorationGain ? Math.exp(options.explorationGain * world.rng.normal()) : 1;
      let ret = 0;
      let success = false;
      let dist = NaN;
      const steps = Math.round(options.episodeS * options.rateHz);
      for (let k = 0; k < steps; k++) {
        clock.advanceMs(dtMs);
        readFollower();
        filter.markFresh();
        // What perception reports this cycle (the cube moves while carried), before the task steps.
        const seen = perception.observe(clock.nowUs() / 1000);
        let desired: ArrayLike<number>;
        if (session) {
          let o = 0;
          for (const seg of plan!) {
            if (seg.kind === 'follower') {
              obs.set(follower, o);
              o += n;
            } else {
              obs.set(seen.subarray(3 * seg.index, 3 * seg.index + 3), o);
              o += 3;
            }
          }
          const out = await session.run({ observation: new ort.Tensor('float32', obs, [1, obs.length]) });
          const a = out.action!.data as Float32Array;
          if (gain !== 1) for (let i = 0; i < a.length; i++) a[i] = follower[i]! + gain * (a[i]! - follower[i]!);
          if (options.explorationStd) for (let i = 0; i < a.length; i++) a[i] = a[i]! + options.explorationStd * world.rng.normal();
          desired = a;
        } else {
          world.leader.bus.servos.forEach((s, i) => (leader[i] = lConv[i]!.toUnits((s.update(), s.get('Present_Position')))));
          desired = leader;
        }
        const { command } = filter.filter(kinesthetic ? follower : desired);
        if (!kinesthetic) world.follower.bus.servos.forEach((s, i) => s.set('Goal_Position', fConv[i]!.toTicks(command[i]!)));
        const r = world.evaluate();
        ret += r.reward;
        success = r.success;
        dist = r.distanceM;
        if (recorder && topics) {
          const t = ns();
          const js = (frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: names, position: Float64Array.from(p), velocity: [], effort: [] });
          if (!session && topics.leader) recorder.log(topics.leader, js('leader', leader), t);
          recorder.log(topics.follower, js('follower', follower), t);
          if (topics.action) recorder.log(topics.action, js('action', command), t);
          topics.poses.forEach((topic, f) => recorder.log(topic, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: seen[3 * f]!, y: seen[3 * f + 1]!, z: seen[3 * f + 2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t));
          if (topics.reward) recorder.log(topics.reward, { data: r.reward }, t);
          if (topics.success) recorder.log(topics.success, { data: r.success }, t);
        }
      }
      // Labels only: the end says nothing of the outcome (a person's label, next, does), as on a real arm.
      ev(labelsOnly ? { event: 'end', episode: e, reason: 'time' } : { event: 'end', episode: e, success, reward_sum: ret, reason: 'time' });
      ev({ event: 'label', episode: e, outcome: success ? 'success' : 'failure' });
      if (recorder) await recorder.flush();
      episodes.push({ index: e, skill, failure: start.plan.failure, success, return: ret, finalDistanceM: dist, outcome: task.outcome() });
    }
  } finally {
    await recorder?.close();
    await session?.release();
    world.close();
  }
  const returns = episodes.map((x) => x.return);
  const mean = returns.reduce((a, b) => a + b, 0) / Math.max(1, returns.length);
  const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, returns.length));
  return { episodes, successRate: episodes.filter((x) => x.success).length / Math.max(1, episodes.length), meanReturn: mean, stdReturn: std };
}
