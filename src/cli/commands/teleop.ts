import { z } from 'zod';
import { Arm } from '../../arm/arm.ts';
import { loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { runTeleop, type TeleopCycle, type TeleopResult } from '../../arm/teleop.ts';
import { runTeleopInWorker, teleopCycleOf } from '../../control/loop-host.ts';
import { runSimTeleop } from '../../workflows/teleop-sim.ts';
import { percentile } from '../../workflows/stats.ts';
import { armPairOptions, followerServoSettings } from '../arm-options.ts';
import type { Command } from '../command.ts';
import { terminalKeys } from '../keys.ts';

const options = z.object({
  ...armPairOptions,
  rate: z.coerce.number().positive().max(2000).default(200).describe('Control rate, Hz'),
  durationS: z.coerce.number().positive().optional().describe('Stop after this many seconds (default: until Ctrl-C)'),
  maxSpeed: z.coerce.number().positive().default(4).describe('Follower speed limit, rad/s (gripper: range/s)'),
  sim: z.boolean().default(false).describe('Simulated leader and follower; a scripted operator moves the leader'),
  skill: z.enum(['expert', 'noisy', 'poor']).default('expert').describe('Skill of the scripted operator (--sim)'),
  task: z.enum(['reach', 'pick-place']).default('reach').describe('Simulated task the scripted operator does (--sim)'),
  seed: z.coerce.number().int().default(1).describe('Seed of the simulated world (--sim)'),
  unplugLeaderAfterS: z.coerce.number().positive().optional().describe('Fault injection (--sim): pull the leader cable after this many seconds'),
});

function statusLine(stdout: NodeJS.WritableStream) {
  let last = 0;
  let n = 0;
  let latMax = 0;
  return (c: TeleopCycle) => {
    n++;
    latMax = Math.max(latMax, c.latencyUs);
    if (c.tMs - last >= 500 && 'isTTY' in stdout && stdout.isTTY) {
      stdout.write(`\r${(c.tMs / 1000).toFixed(1)} s  ${((n * 1000) / (c.tMs - last)).toFixed(0)} Hz  read→write max ${(latMax / 1000).toFixed(2)} ms  ${c.status}   `);
      last = c.tMs;
      n = 0;
      latMax = 0;
    }
  };
}

function report(stdout: NodeJS.WritableStream, r: TeleopResult, rateHz: number) {
  const late = [...r.latenessUs].sort((a, b) => a - b);
  const lat = [...r.latencyUs].sort((a, b) => a - b);
  stdout.write(
    `\n${r.cycles} cycles in ${r.seconds.toFixed(1)} s: ${r.achievedHz.toFixed(1)} Hz (asked ${rateHz}), ` +
      `wake-up lateness p50 ${percentile(late, 50).toFixed(0)} µs p99 ${percentile(late, 99).toFixed(0)} µs, ` +
      `read→write p50 ${(percentile(lat, 50) / 1000).toFixed(2)} ms p99 ${(percentile(lat, 99) / 1000).toFixed(2)} ms, ${r.overruns} overruns\n` +
      `tracking error (mean |follower − leader|): ${r.trackingErrorRad.toFixed(4)} rad\nsafety: ${describeSafety(r.safety)}\n`,
  );
}

export const teleopCommand: Command<typeof options> = {
  name: 'teleop',
  summary: 'Teleoperate: the leader arm drives the follower through the safety filter',
  options,
  examples: ['armbridge teleop --leader /dev/ttyACM1 --follower /dev/ttyACM0 --rate 200', 'armbridge teleop --sim --duration-s 10', 'armbridge teleop --sim --task pick-place --duration-s 18'],
  async run(o, { stdout, stderr, signal }) {
    const servoSettings = followerServoSettings(o);
    if (o.sim) {
      const r = await runSimTeleop({
        realtimePriority: 50,
        arm: o.arm,
        task: o.task,
        rateHz: o.rate,
        durationS: o.durationS ?? 10,
        skill: o.skill,
        seed: o.seed,
        estop: signal,
        unplugLeaderAfterS: o.unplugLeaderAfterS,
        onCycle: statusLine(stdout),
        log: (s) => stdout.write(s),
      });
      report(stdout, r, o.rate);
      stdout.write(`task: ${r.successes}/${r.episodes} episodes ${o.task === 'pick-place' ? 'placed the cube on the goal' : 'reached and held the target'}, mean reward ${r.meanReward.toFixed(4)}; follower ${r.parked ? 'parked' : 'did not reach the rest pose'}, torque off\n`);
      return 0;
    }
    if (!o.leader || !o.follower) {
      stderr.write('give --leader PORT and --follower PORT (or --sim)\n');
      return 2;
    }
    const calibration = {
      leader: await loadCalibration(o.leaderCalibration ?? `calibration/${o.arm}-leader.json`),
      follower: await loadCalibration(o.followerCalibration ?? `calibration/${o.arm}-follower.json`),
    };
    const keys = terminalKeys();
    stdout.write(`teleoperating at ${o.rate} Hz; q = stop (the follower parks, then torque goes off); e, space or Ctrl-C = e-stop (hold, torque off)\n`);
    const control = () => {
      const k = keys?.poll();
      return k === 'stop' || k === 'estop' ? k : undefined;
    };
    try {
      if (process.platform === 'linux') {
        // The loop, both ports and the parking run in the loop worker; the status line and keys stay here.
        const line = statusLine(stdout);
        const r = await runTeleopInWorker({
          realtimePriority: 50,
          arm: { kind: o.arm, calibration: calibration.follower, path: o.follower, servoSettings },
          leader: { calibration: calibration.leader, path: o.leader },
          rateHz: o.rate,
          durationS: o.durationS,
          maxSpeed: o.maxSpeed,
          estop: signal,
          control,
          onRecord: (c) => line(teleopCycleOf(c)),
        });
        report(stdout, r, o.rate);
        return 0;
      }
      await using leader = await Arm.open({ profile: armProfile(o.arm, 'leader'), calibration: calibration.leader, path: o.leader });
      await using follower = await Arm.open({ profile: armProfile(o.arm, 'follower'), calibration: calibration.follower, path: o.follower, servoSettings });
      const r = await runTeleop({ leader, follower, rateHz: o.rate, durationS: o.durationS, maxSpeed: o.maxSpeed, estop: signal, control, onCycle: statusLine(stdout) });
      report(stdout, r, o.rate);
      await parkArm(follower);
      return 0;
    } finally {
      keys?.close();
    }
  },
};
