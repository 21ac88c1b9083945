/**
 * `armbridge sim --pair`: a simulated leader and follower in one world on two ptys, the leader in
 * the scripted operator's hand (workflows/sim-pair.ts). stdout is the control channel's: one JSON
 * object a line and nothing else; what a person reads goes to stderr.
 */
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { MountJoint } from '../sim/calibration-mount.ts';
import { requestRealtimePriority } from '../control/realtime-priority.ts';
import { TASK_NAMES } from '../sim/task.ts';
import { SCENE_MODES } from '../sim/world.ts';
import { parseSkillMix, type SkillMix } from '../workflows/record-sim.ts';
import { handlePairCommand, pairEventLine, runPairCadence, SimPair, type PairEvent } from '../workflows/sim-pair.ts';
import { UsageError, type CommandContext } from './command.ts';
import { CalibrationHand } from '../sim/calibration-hand.ts';

export const simPairOptions = {
  pair: z
    .boolean()
    .default(false)
    .describe(
      'Serve a leader and a follower in one simulated world (--leader-link, --follower-link), the leader moved by the scripted operator as a person would. ' +
        'Control it with one command a line on stdin, each answered by one JSON line on stdout: ' +
        '"start" (the scene in place, a skill drawn from --mix, the operator demonstrates with the leader; the task scores the follower every 10 ms), ' +
        '"reset" (scoring stops, the leader back to rest, the next scene put in place), ' +
        '"judge" (the episode\'s success, outcome and return, judged on the follower\'s joints), "quit". ' +
        'stdin reaching its end does not stop it (Ctrl-C does)',
    ),
  leaderLink: z.string().default('/tmp/so101-leader').describe('With --pair: where the leader\'s port appears'),
  followerLink: z.string().default('/tmp/so101-follower').describe('With --pair: where the follower\'s port appears'),
  leaderCalibration: z.string().optional().describe('With --pair: mount the leader after this calibration (as --calibration); default uncalibrated, as out of the box'),
  followerCalibration: z.string().optional().describe('With --pair: mount the follower after this calibration (as --calibration); default uncalibrated'),
  task: z.enum(TASK_NAMES as ['reach', 'pick-place']).default('reach').describe('With --pair: the task the world scores on the follower'),
  scene: z.enum(SCENE_MODES as ['random', 'fixed']).default('random').describe('With --pair: a new scene every episode, or the same fixed one (a bench with marked spots)'),
  mix: z.string().default('expert:1').describe('With --pair: the operator\'s skills and weights, e.g. expert:0.5,poor:0.5'),
  seed: z.coerce.number().int().default(1).describe('With --pair: seed of the world (operator and random scenes)'),
  realtimePriority: z.coerce
    .number()
    .int()
    .min(0)
    .max(99)
    .default(0)
    .describe('With --pair: serve the servos at SCHED_FIFO this priority (0: normal), so they answer in time on a loaded machine as hardware would (record gives its loop 50; needs root or CAP_SYS_NICE)'),
  cadence: z.string().optional().describe('With --pair: run on its own clock instead of stdin, EPISODE_S,RESET_S: start, reset and judge every episode (for trying it by hand)'),
};

export interface SimPairCliOptions {
  readonly arm: 'so101' | 'koch';
  readonly leaderLink: string;
  readonly followerLink: string;
  readonly leaderCalibration?: string;
  readonly followerCalibration?: string;
  readonly task: 'reach' | 'pick-place';
  readonly scene: 'random' | 'fixed';
  readonly mix: string;
  readonly seed: number;
  readonly realtimePriority: number;
  readonly cadence?: string;
  /** calibrate: a calibration hand at each arm (as `sim --hand calibrate`), for calibrating the pair over its ports. */
  readonly hand?: 'none' | 'calibrate';
}

function parseCadence(text: string): { episodeS: number; resetS: number } {
  const [e, r, ...rest] = text.split(',').map(Number);
  if (rest.length > 0 || !(e! > 0) || !(r! >= 0)) throw new UsageError(`--cadence "${text}": give EPISODE_S,RESET_S in seconds, e.g. --cadence 6,3`);
  return { episodeS: e!, resetS: r! };
}

export async function runSimPair(o: SimPairCliOptions, { stdout, stderr, signal }: CommandContext, loadMount: (path: string, role: 'leader' | 'follower') => Promise<MountJoint[]>): Promise<number> {
  let mix: SkillMix;
  try {
    mix = parseSkillMix(o.mix);
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const cadence = o.cadence === undefined ? undefined : parseCadence(o.cadence);
  // The servos are served on this thread's event loop (both ptys, the scoring timer); asked before
  // the ptys are made, so that socat, forked from this thread, relays the bytes at the same priority.
  const realtime = o.realtimePriority > 0 ? requestRealtimePriority(o.realtimePriority) : undefined;
  const pair = await SimPair.start({
    arm: o.arm,
    task: o.task,
    scene: o.scene,
    mix,
    seed: o.seed,
    leaderLink: o.leaderLink,
    followerLink: o.followerLink,
    leaderMount: o.leaderCalibration ? await loadMount(o.leaderCalibration, 'leader') : undefined,
    followerMount: o.followerCalibration ? await loadMount(o.followerCalibration, 'follower') : undefined,
  });
  const emit = (e: PairEvent) => stdout.write(pairEventLine(e));
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) stop.abort();
  const rl = cadence ? undefined : createInterface({ input: process.stdin, terminal: false });
  const hands: CalibrationHand[] = [];
  try {
    // A person's hand at each arm for `armbridge calibrate` over the ports (the operator moves the leader only between start and reset).
    if (o.hand === 'calibrate') for (const role of ['leader', 'follower'] as const) hands.push(new CalibrationHand(pair.world[role].bus, { onState: (s) => stderr.write(`hand at the ${role}: ${s}\n`) }));
    stderr.write(
      `serving a simulated ${o.arm} leader at ${o.leaderLink} and follower at ${o.followerLink} in one world (${o.task}, ${o.scene} scene, operator ${o.mix}, seed ${o.seed}; ` +
        `${o.leaderCalibration || o.followerCalibration ? 'mounted after the given calibrations' : 'uncalibrated, as out of the box'})\n` +
        (realtime ? `servos served at ${realtime.detail}\n` : '') +
        (cadence ? `episodes of ${cadence.episodeS} s, resets of ${cadence.resetS} s on their own clock; Ctrl-C to stop\n` : 'commands on stdin: start, reset, judge, quit\n'),
    );
    stdout.write(`${JSON.stringify({ event: 'ready', leader: o.leaderLink, follower: o.followerLink, task: o.task, scene: o.scene })}\n`);
    if (cadence) await runPairCadence(pair, cadence, emit, stop.signal);
    else {
      rl!.on('line', (line) => {
        if (line.trim() === '') return;
        const e = handlePairCommand(pair, line);
        emit(e);
        if (e.event === 'quit') stop.abort();
      });
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    stderr.write(`stopped after ${pair.episodes} episodes; served ${pair.world.leader.bus.stats.instructions} + ${pair.world.follower.bus.stats.instructions} instructions (leader + follower)\n`);
    return 0;
  } finally {
    signal.removeEventListener('abort', onAbort);
    rl?.close();
    for (const h of hands) h.stop();
    await pair.close();
  }
}
