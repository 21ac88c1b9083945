import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { recordSession, type RecordProgress } from '../../record/record-session.ts';
import { progressOfRecords, runRecordInWorker } from '../../control/loop-host.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../../record/recorder.ts';
import { parseSkillMix, recordSim, type SkillMix } from '../../workflows/record-sim.ts';
import { armPairOptions, followerServoSettings } from '../arm-options.ts';
import { simBenchOf, simBenchOptions } from '../sim-bench-options.ts';
import { UsageError, type Command } from '../command.ts';
import { terminalKeys, type KeyControl } from '../keys.ts';
import type { EndedEpisode } from '../../record/episode-control.ts';

/** Defaults of --rate and --episode-s: teleoperation in real time, and generated demonstrations (--virtual-time). */
const REAL_TIME = { rateHz: 100, episodeS: 20 } as const;
const VIRTUAL_TIME = { rateHz: 20, episodeS: 3 } as const;
/** Pick and place takes the scripted expert about 6.5 s: its virtual-time episodes are 8 s. */
const PICK_PLACE_EPISODE_S = 8;

const options = z.object({
  ...armPairOptions,
  rate: z.coerce.number().positive().max(2000).optional().describe(`Recording and control rate, Hz (default ${REAL_TIME.rateHz}; with --virtual-time ${VIRTUAL_TIME.rateHz}, the rate the learning benchmark uses)`),
  episodes: z.coerce.number().int().positive().default(50).describe('Episodes to record'),
  episodeS: z.coerce.number().positive().optional().describe(`Length of an episode, s (default ${REAL_TIME.episodeS}; with --virtual-time ${VIRTUAL_TIME.episodeS}, ${PICK_PLACE_EPISODE_S} for pick-place)`),
  resetS: z.coerce.number().nonnegative().default(5).describe('Reset time between episodes (not recorded), s'),
  out: z.string().optional().describe('Output MCAP file (default recordings/<arm>-<time>.mcap)'),
  overwrite: z.boolean().default(false).describe('Replace an existing output file'),
  operator: z.string().default('unknown').describe('Who teleoperates (stored in the file)'),
  sim: z.boolean().default(false).describe('Simulated arms; the scripted operator demonstrates'),
  mix: z.string().default('expert:1').describe('Scripted operator skills and weights (--sim), e.g. expert:0.5,noisy:0.2,poor:0.3'),
  seed: z.coerce.number().int().default(1).describe('Seed of the simulated world (--sim)'),
  inProcess: z.boolean().default(false).describe('Simulated arms over the in-process binding instead of ptys (--sim)'),
  virtualTime: z.boolean().default(false).describe('With --sim: generate the episodes in simulated time, as fast as the machine computes them (same file format, marked virtual_time); no ports, no reset time'),
  kinesthetic: z.boolean().default(false).describe('Kinesthetic teaching: no leader arm; the follower\'s torque stays off while a person moves it by hand (--sim: the scripted operator\'s hand), its states are recorded without /action (train derives the labels); at the end it is held and parked'),
  compliance: z.enum(['torque-off', 'damping']).default('torque-off').describe('With --kinesthetic: how the follower yields to the hand: torque off, or damping (Feetech STS only: an arm let go sinks slowly instead of falling; heavier to move)'),
  task: z.enum(['reach', 'pick-place']).default('reach').describe('Simulated task (--sim): reach a target, or pick the cube and place it on the goal (episodes of 8 s by default)'),
  ...simBenchOptions,
});

function progressPrinter(stdout: NodeJS.WritableStream, episodes: number) {
  const tty = 'isTTY' in stdout && stdout.isTTY;
  let lastEpisode = -1;
  return (p: RecordProgress) => {
    const line = `episode ${p.episode + 1}/${episodes} (${p.kept} kept) ${p.phase} ${p.phaseLeftS.toFixed(1)} s left  ${p.achievedHz.toFixed(0)} Hz  ${p.overruns} late cycles  ${p.droppedSamples} samples dropped`;
    if (tty) stdout.write(`\r${line}   `);
    else if (p.episode !== lastEpisode) stdout.write(`${line}\n`);
    lastEpisode = p.episode;
  };
}

/**
 * Asks the person for an ended episode's label, with one prompt line that names the episode (a
 * harness playing the person syncs on it: the label typed after it reaches this request, not the
 * one before). The prompt is printed once the request is waiting for the key.
 */
function labelPrompt(keys: KeyControl, stdout: NodeJS.WritableStream, episodes: number) {
  return (e: EndedEpisode, done: AbortSignal) => {
    const answer = keys.nextLabel(done);
    if (!done.aborted) stdout.write(`\nlabel episode ${e.index + 1}/${episodes}? s = success, f = failure, or a score and Enter\n`);
    return answer;
  };
}

export const recordCommand: Command<typeof options> = {
  name: 'record',
  summary: 'Record teleoperated episodes into a crash-safe MCAP file (ROS 2 schemas)',
  options,
  examples: [
    'armbridge record --leader /dev/ttyACM1 --follower /dev/ttyACM0 --rate 100 --episodes 50 --episode-s 20 --reset-s 5 --out recordings/pick.mcap',
    'armbridge record --sim --episodes 20 --episode-s 6 --reset-s 2 --mix expert:0.5,poor:0.5 --out recordings/sim.mcap',
    'armbridge record --sim --virtual-time --arm so101 --task reach --episodes 300 --mix expert:0.5,noisy:0.2,poor:0.3 --seed 1 --out recordings/reach-demos.mcap',
    'armbridge record --sim --virtual-time --arm koch --task pick-place --episodes 300 --mix expert:0.5,poor:0.5 --seed 1 --out recordings/pick-demos.mcap',
  ],
  async run(o, { stdout, stderr, signal }) {
    if (o.virtualTime && !o.sim) throw new UsageError('--virtual-time needs --sim (only the simulator can run faster than real time)');
    if (o.compliance !== 'torque-off' && !o.kinesthetic) throw new UsageError('--compliance applies to --kinesthetic recording (the follower moved by hand)');
    const servoSettings = followerServoSettings(o);
    let mix: SkillMix;
    try {
      mix = parseSkillMix(o.mix);
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    const defaults = o.virtualTime ? VIRTUAL_TIME : REAL_TIME;
    const rateHz = o.rate ?? defaults.rateHz;
    const episodeS = o.episodeS ?? (o.task === 'pick-place' && o.virtualTime ? PICK_PLACE_EPISODE_S : defaults.episodeS);
    const out = o.out ?? `recordings/${o.arm}-${new Date().toISOString().replace(/[:.]/g, '-')}.mcap`;
    await mkdir(dirname(out), { recursive: true }).catch(() => undefined);
    if (o.virtualTime) {
      stdout.write(`generating ${o.episodes} ${o.kinesthetic ? 'kinesthetic (states only, no /action) ' : ''}${o.task} episodes on the simulated ${o.arm} in virtual time at ${rateHz} Hz, ${episodeS} s each, operator mix ${o.mix}, seed ${o.seed}\n`);
      // onnxruntime (imported by the rollout module) is heavy: loaded only when used.
      const { rollout } = await import('../../workflows/sim-rollout.ts');
      const r = await rollout({ arm: o.arm, task: o.task, seed: o.seed, episodes: o.episodes, episodeS, rateHz, driver: { kind: o.kinesthetic ? 'kinesthetic' : 'operator', mix }, out, overwrite: o.overwrite, bench: simBenchOf(o) });
      const bySkill = new Map<string, { n: number; ok: number }>();
      for (const e of r.episodes) {
        const b = bySkill.get(e.skill) ?? { n: 0, ok: 0 };
        b.n++;
        if (e.success) b.ok++;
        bySkill.set(e.skill, b);
      }
      const skills = [...bySkill].map(([k, b]) => `${k} ${b.ok}/${b.n}`).join(', ');
      stdout.write(`${r.episodes.length} episodes: success ${(r.successRate * 100).toFixed(1)} % (${skills}), mean return ${r.meanReturn.toFixed(2)} ± ${r.stdReturn.toFixed(2)} → ${out}\n`);
      return 0;
    }
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    const keys = terminalKeys(process.stdin, () => controller.abort());
    if (keys) {
      stdout.write('keys: n = next episode, r = re-record, q = stop (park), e or space = e-stop (hold, torque off)');
      stdout.write((o.sim ? '' : '; after an episode: s / f = label it success / failure, or type a score and Enter') + '\n');
    }
    try {
      if (o.kinesthetic) {
        const { recordKinestheticArm, recordKinestheticArmInWorker, recordKinestheticSim, recordKinestheticSimInWorker } = await import('../../workflows/record-kinesthetic.ts');
        // The loop and the follower's port in the loop worker, as teleop and record do on Linux (the
        // simulated world beside the loop there); elsewhere on this thread.
        const inWorker = process.platform === 'linux';
        if (!o.sim && !o.follower) throw new UsageError('--kinesthetic needs --follower PORT (the arm you move by hand; no leader), or --sim');
        const common = {
          arm: o.arm,
          out,
          overwrite: o.overwrite,
          rateHz,
          episodes: o.episodes,
          episodeS,
          resetS: o.resetS,
          compliance: o.compliance,
          signal: controller.signal,
          keys: keys?.poll,
          onProgress: progressPrinter(stdout, o.episodes),
          log: (s: string) => stdout.write(s),
        };
        const sim = { ...common, mix, seed: o.seed, task: o.task, transport: o.inProcess ? ('in-process' as const) : ('pty' as const) };
        const arm = { ...common, port: o.follower!, calibration: o.followerCalibration ?? `calibration/${o.arm}-follower.json`, operator: o.operator, label: keys ? (_e: unknown, done: AbortSignal) => keys.nextLabel(done) : undefined };
        const r = o.sim
          ? await (inWorker ? recordKinestheticSimInWorker({ ...sim, realtimePriority: 50 }) : recordKinestheticSim(sim))
          : await (inWorker ? recordKinestheticArmInWorker(arm) : recordKinestheticArm(arm));
        stdout.write(
          `\n${r.kept} kinesthetic episodes kept, ${r.discarded} discarded; ${r.recordedCycles} states recorded at ${r.achievedHz.toFixed(1)} Hz (no /action: train derives the labels), ${r.missedReads} missed reads; ` +
            `held, then parked${r.park.reached ? '' : ' (rest pose not reached in time)'} → ${out}\n`,
        );
        return 0;
      }
      if (o.sim) {
        const r = await recordSim({
          realtimePriority: 50,
          arm: o.arm,
          task: o.task,
          out,
          overwrite: o.overwrite,
          rateHz,
          episodes: o.episodes,
          episodeS,
          resetS: o.resetS,
          mix,
          seed: o.seed,
          transport: o.inProcess ? 'in-process' : 'pty',
          bench: simBenchOf(o),
          signal: controller.signal,
          keys: keys?.poll,
          onProgress: progressPrinter(stdout, o.episodes),
          log: (s) => stdout.write(s),
        });
        stdout.write(
          `\n${r.kept} episodes kept, ${r.discarded} discarded; ${r.recordedCycles} cycles recorded at ${r.achievedHz.toFixed(1)} Hz, ${r.overruns} overruns; ` +
            `${r.recorder.written} messages in ${r.recorder.chunks} chunks, ${(r.recorder.bytes / 1e6).toFixed(2)} MB, ${r.recorder.dropped} dropped → ${out}\n`,
        );
        return 0;
      }
      if (!o.leader || !o.follower) {
        stderr.write('give --leader PORT and --follower PORT (or --sim)\n');
        return 2;
      }
      const cal = {
        leader: await loadCalibration(o.leaderCalibration ?? `calibration/${o.arm}-leader.json`),
        follower: await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`),
      };
      const followerProfile = armProfile(o.arm, 'follower');
      await using recorder = await Recorder.create(
        { path: out, overwrite: o.overwrite },
        {
          arm: o.arm,
          rate_hz: String(rateHz),
          software: `armbridge ${ARMBRIDGE_VERSION}`,
          operator: o.operator,
          simulated: 'false',
          joint_names: followerProfile.joints.map((j) => j.name).join(','),
          units: 'radians; gripper 0 (closed) … 1 (open)',
          follower_profile: JSON.stringify(followerProfile),
          follower_calibration: JSON.stringify(cal.follower),
          leader_calibration: JSON.stringify(cal.leader),
          episode_s: String(episodeS),
          reset_s: String(o.resetS),
          schema_version: '1',
        },
      );
      const label = keys ? labelPrompt(keys, stdout, o.episodes) : undefined;
      if (process.platform === 'linux') {
        // The loop, both ports and the episode control run in the loop worker; MCAP encoding, keys and labels stay here.
        const r = await runRecordInWorker({
          realtimePriority: 50,
          arm: { kind: o.arm, calibration: cal.follower, path: o.follower, servoSettings },
          leader: { calibration: cal.leader, path: o.leader },
          rateHz,
          episodes: { episodes: o.episodes, episodeS, resetS: o.resetS },
          recorder,
          estop: controller.signal,
          control: keys?.poll,
          label,
          onRecord: progressOfRecords(progressPrinter(stdout, o.episodes), rateHz, () => recorder.stats.dropped),
        });
        stdout.write(`\n${r.session?.kept ?? 0} episodes kept, ${r.session?.discarded ?? 0} discarded, ${r.achievedHz.toFixed(1)} Hz → ${out}\n`);
        return 0;
      }
      await using leader = await Arm.open({ profile: armProfile(o.arm, 'leader'), calibration: cal.leader, path: o.leader });
      await using follower = await Arm.open({ profile: followerProfile, calibration: cal.follower, path: o.follower, servoSettings });
      const r = await recordSession({
        leader,
        follower,
        recorder,
        rateHz,
        episodes: o.episodes,
        episodeS,
        resetS: o.resetS,
        signal: controller.signal,
        keys: keys?.poll,
        onProgress: progressPrinter(stdout, o.episodes),
        hooks: label ? { label } : {},
      });
      await parkArm(follower).catch(() => undefined);
      stdout.write(`\n${r.kept} episodes kept, ${r.discarded} discarded, ${r.achievedHz.toFixed(1)} Hz → ${out}\n`);
      return 0;
    } finally {
      keys?.close();
    }
  },
};
