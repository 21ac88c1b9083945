import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { calibrateArm, type CalibrationPrompts } from '../../arm/calibrate.ts';
import { importLeRobotCalibration, saveCalibration } from '../../arm/calibration.ts';
import { CalibrationFileError } from '../../arm/errors.ts';
import { armProfile } from '../../arm/profiles.ts';
import { MotorBus } from '../../bus/motor-bus.ts';
import { simCalibrationHand } from '../../workflows/sim-calibration.ts';
import { openSimPort } from '../../workflows/sim-port.ts';
import type { Command } from '../command.ts';
import { EnterKey, PromptInterruptedError, StdinClosedError } from '../enter-key.ts';
import { namedError } from '../../errors.ts';

const options = z.object({
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type'),
  role: z.enum(['follower', 'leader']).default('follower').describe('Which arm of the pair'),
  port: z.string().optional().describe('Serial port of the arm (not needed with --sim or --import)'),
  sim: z.boolean().default(false).describe("Calibrate a simulated arm; the simulator's hand does the moves"),
  import: z.string().optional().describe('Convert a LeRobot calibration JSON instead of calibrating'),
  out: z.string().optional().describe('Where to write the calibration (default calibration/<arm>-<role>.json)'),
});

/** What a calibration stopped before its end leaves in the servos (arm/calibrate.ts restores it). */
const LEFT_UNCALIBRATED =
  'nothing was saved; the servos are left with torque off and no calibration in them (homing offset 0, limits over the full turn): ' +
  'teleop and record write your calibration file into them when they open the arm';

function terminalPrompts(out: NodeJS.WritableStream, enter: EnterKey, names: readonly string[], signal: AbortSignal): CalibrationPrompts {
  const liveUntilEnter = async (step: string, show: () => Promise<string>) => {
    let done = false;
    const pressed = enter
      .next(() => new StdinClosedError(step, LEFT_UNCALIBRATED), signal, () => new PromptInterruptedError(step, LEFT_UNCALIBRATED))
      .finally(() => (done = true));
    pressed.catch(() => undefined);
    while (!done) {
      out.write(`\r${await show()}   `);
      await Promise.race([pressed, new Promise((res) => setTimeout(res, 100))]).catch(() => undefined);
    }
    out.write('\n');
    await pressed;
  };
  return {
    async middle(live) {
      out.write('Move the arm to the MIDDLE of its range of motion (every joint about halfway), then press Enter.\n');
      await liveUntilEnter('the middle pose', async () => (await live()).map((t, i) => `${names[i]} ${t}`).join('  '));
    },
    async sweep(_live, ranges) {
      out.write('Move EVERY joint slowly through its WHOLE range, end to end, then press Enter.\n');
      await liveUntilEnter('the sweep', async () => ranges().map((r) => `${r.name} ${r.min}…${r.max}`).join('  '));
    },
  };
}

export const calibrateCommand: Command<typeof options> = {
  name: 'calibrate',
  summary: 'Calibrate an arm (homing offsets, ranges) or import a LeRobot calibration file',
  options,
  examples: [
    'armbridge calibrate --arm so101 --role follower --port /dev/ttyACM0',
    'armbridge calibrate --import ~/.cache/huggingface/lerobot/calibration/robots/so101_follower/my_arm.json --arm so101 --role follower',
    'armbridge calibrate --arm so101 --sim --out /tmp/so101.json',
  ],
  async run(o, { stdout, stderr, stdin, signal }) {
    const profile = armProfile(o.arm, o.role);
    const out = o.out ?? `calibration/${o.arm}-${o.role}.json`;
    if (o.import) {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(o.import, 'utf8'));
      } catch (e) {
        throw new CalibrationFileError(o.import, `cannot read it as JSON (${(e as Error).message})`, { cause: e });
      }
      const cal = importLeRobotCalibration(json, profile, o.import);
      await saveCalibration(out, cal);
      stdout.write(`imported ${Object.keys(cal.joints).length} joints from LeRobot calibration ${o.import} → ${out}\n`);
      return 0;
    }
    if (!o.port && !o.sim) {
      stderr.write(
        `give the arm's port: armbridge calibrate --arm ${o.arm} --role ${o.role} --port /dev/ttyACM0 (find it with armbridge scan --list), ` +
          `or --sim to calibrate a simulated arm, or --import FILE to convert a LeRobot calibration\n`,
      );
      return 2;
    }
    const sim = o.sim ? await openSimPort(o.arm, o.role, 'in-process') : undefined;
    try {
      const bus = await MotorBus.open({
        path: sim?.path ?? o.port!,
        binding: sim?.binding,
        vendor: profile.vendor,
        baud: profile.baud,
        models: Object.fromEntries(profile.joints.map((j) => [j.id, j.model])),
      });
      const enter = sim ? undefined : new EnterKey(stdin ?? process.stdin);
      try {
        const prompts = sim ? simCalibrationHand(sim.arm) : terminalPrompts(stdout, enter!, profile.joints.map((j) => j.name), signal);
        if (sim) stdout.write("calibrating the simulated arm: the simulator's hand holds it mid-range, then sweeps each joint\n");
        const cal = await calibrateArm(bus, profile, prompts);
        await saveCalibration(out, cal);
        for (const [name, j] of Object.entries(cal.joints)) {
          stdout.write(`  ${name.padEnd(14)} id ${j.id}  offset ${String(j.homing_offset).padStart(5)}  range ${j.range_min}…${j.range_max}\n`);
        }
        stdout.write(`calibration written to ${out} and to the servos\n`);
        return 0;
      } finally {
        enter?.close();
        await bus.close();
      }
    } catch (e) {
      // Bus errors then say which arm and port failed.
      throw sim ? e : namedError(e, `${o.role} on ${o.port}`);
    } finally {
      await sim?.close();
    }
  },
};
