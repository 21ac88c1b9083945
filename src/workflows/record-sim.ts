/**
 * Recording demonstrations on the simulator: the scripted operator (with a mix of skills) drives
 * the simulated leader, the follower follows through the SafetyFilter, and every episode is scored
 * by the reach task. Without a terminal nothing waits for a key: outcomes come from the task.
 */
import { readFile } from 'node:fs/promises';
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { recordSession, type ControlKey, type EpisodeLabel, type RecordProgress, type RecordSessionResult } from '../record/record-session.ts';
import { ARMBRIDGE_VERSION, Recorder, type RecorderStats } from '../record/recorder.ts';
import type { Skill } from '../sim/operator.ts';
import type { SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld } from '../sim/world.ts';
import { simCalibrationPath } from './paths.ts';
import { serveSimArm, type SimPort } from './sim-port.ts';

export type SkillMix = Partial<Record<Skill, number>>;

/** "expert:0.5,noisy:0.2,poor:0.3" → weights. */
export function parseSkillMix(text: string): SkillMix {
  const mix: SkillMix = {};
  for (const part of text.split(',')) {
    const [k, v] = part.split(':');
    if (k !== 'expert' && k !== 'noisy' && k !== 'poor') throw new RangeError(`unknown skill "${k}" in --mix (expert, noisy, poor)`);
    const w = Number(v ?? 1);
    if (!(w >= 0)) throw new RangeError(`bad weight "${v}" for ${k} in --mix`);
    mix[k] = w;
  }
  return mix;
}

export interface SimRecordOptions {
  readonly arm: SimArmKind;
  /** The simulated task (default reach). */
  readonly task?: TaskName;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly rateHz: number;
  readonly episodes: number;
  readonly episodeS: number;
  readonly resetS: number;
  readonly mix?: SkillMix;
  readonly seed?: number;
  readonly transport?: 'pty' | 'in-process';
  readonly signal?: AbortSignal;
  readonly keys?: () => ControlKey | undefined;
  readonly label?: (e: { index: number; success?: boolean; rewardSum?: number }) => Promise<EpisodeLabel | undefined>;
  readonly onProgress?: (p: RecordProgress) => void;
  readonly log?: (line: string) => void;
}

export interface SimRecordResult extends RecordSessionResult {
  readonly path: string;
  readonly recorder: RecorderStats;
  readonly transport: 'pty' | 'in-process';
}

const REST: Readonly<Record<SimArmKind, readonly number[]>> = {
  so101: [0, -0.2, 0.3, 0.4, 0, 0.5],
  koch: [0, -0.2, 0.3, -0.5, 0, -0.4],
};

export async function recordSim(options: SimRecordOptions): Promise<SimRecordResult> {
  const world = new SimWorld({ arm: options.arm, seed: options.seed ?? 1, task: options.task });
  const mix = options.mix ?? { expert: 1 };
  const total = Object.values(mix).reduce((a, b) => a + (b ?? 0), 0);
  const pickSkill = (): Skill => {
    let x = world.rng.next() * total;
    for (const [k, w] of Object.entries(mix) as [Skill, number][]) if ((x -= w) < 0) return k;
    return 'expert';
  };
  const log = options.log ?? (() => undefined);
  const ports: SimPort[] = [];
  const arms: Arm[] = [];
  let recorder: Recorder | undefined;
  try {
    for (const sim of [world.leader, world.follower]) ports.push(await serveSimArm(sim, options.transport ?? 'pty'));
    const bus = ports[0]!.transport === 'pty' ? { timeoutMs: 100 } : { timeoutMs: 20 };
    const cals = { leader: await loadCalibration(simCalibrationPath(options.arm, 'leader')), follower: await loadCalibration(simCalibrationPath(options.arm, 'follower')) };
    for (const [i, role] of (['leader', 'follower'] as const).entries()) {
      arms.push(await Arm.open({ profile: armProfile(options.arm, role), calibration: cals[role], path: ports[i]!.path, binding: ports[i]!.binding, bus }));
    }
    const [leader, follower] = arms as [Arm, Arm];
    recorder = await Recorder.create(
      { path: options.out, overwrite: options.overwrite },
      {
        arm: options.arm,
        task: world.task.name,
        rate_hz: String(options.rateHz),
        software: `armbridge ${ARMBRIDGE_VERSION}`,
        operator: `scripted (mix ${JSON.stringify(mix)})`,
        simulated: 'true',
        seed: String(options.seed ?? 1),
        joint_names: follower.names.join(','),
        units: 'radians; gripper 0 (closed) … 1 (open)',
        follower_profile: JSON.stringify(follower.profile),
        follower_calibration: JSON.stringify(cals.follower),
        leader_calibration: JSON.stringify(cals.leader),
        episode_s: String(options.episodeS),
        reset_s: String(options.resetS),
        schema_version: '1',
        package_json_version: JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string,
      },
    );
    log(`recording ${options.episodes} episodes of ${options.episodeS} s at ${options.rateHz} Hz to ${options.out} (${ports[0]!.transport})\n`);
    const session = await recordSession({
      leader,
      follower,
      recorder,
      rateHz: options.rateHz,
      episodes: options.episodes,
      episodeS: options.episodeS,
      resetS: options.resetS,
      signal: options.signal,
      keys: options.keys,
      onProgress: options.onProgress,
      hooks: {
        start: () => {
          const skill = pickSkill();
          const e = world.startEpisode(skill);
          const where = world.task.features.map((f, i) => `${f.name.split('.')[0]} (${world.task.positions()[i]!.map((v) => v.toFixed(3)).join(', ')})`).join(', ');
          log(`episode ${e.index}: ${where} m, operator ${skill}${e.plan.failure === 'none' ? '' : ` (${e.plan.failure})`}\n`);
          return { operator: `scripted-${skill}`, detail: { skill, failure: e.plan.failure, ...e.scene } };
        },
        reset: () => {
          world.operator.start(REST[options.arm], 'expert');
        },
        // Poses as perceived this cycle (before the task steps: the cube moves while carried).
        // The session records /target_pose itself (targetPosition); other poses on their own topics.
        task: () => {
          const seen = world.task.positions().map((p, i) => ({ topic: world.task.features[i]!.topic, position: [p[0], p[1], p[2]] as [number, number, number] }));
          const ev = world.evaluate();
          return { targetPosition: seen.find((q) => q.topic === '/target_pose')?.position, poses: seen.filter((q) => q.topic !== '/target_pose'), reward: ev.reward, success: ev.success };
        },
        poseTopics: world.task.features.map((f) => f.topic).filter((t) => t !== '/target_pose'),
        label: options.label ?? (async (e) => ({ outcome: e.success ? 'success' : 'failure' })),
      },
    });
    await recorder.close();
    await parkArm(follower, { speed: 1.5, timeoutS: 5 }).catch(() => undefined);
    return { ...session, path: options.out, recorder: recorder.stats, transport: ports[0]!.transport };
  } finally {
    await recorder?.close().catch(() => undefined);
    for (const a of arms.reverse()) await a.close();
    for (const p of ports) await p.close();
    world.close();
  }
}
