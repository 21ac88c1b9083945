import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import { calibrateArm, type CalibrationPrompts } from '../../arm/calibrate.ts';
import { importLeRobotCalibration, saveCalibration } from '../../arm/calibration.ts';
import { CalibrationFileError } from '../../arm/errors.ts';
import { armProfile } from '../../arm/profiles.ts';
import { MotorBus } from '../../bus/motor-bus.ts';
import { simCalibrationHand } from '../../workflows/sim-calibration.ts';
import { openSimPort } from '../../workflows/sim-port.ts';
import type { Command } from '../command.ts';

const options = z.object({
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type'),
  role: z.enum(['follower', 'leader']).default('follower').describe('Which arm of the pair'),
  port: z.string().optional().describe('Serial port of the arm (not needed with --sim or --import)'),
  sim: z.boolean().default(false).describe("Calibrate a simulated arm; the simulator's hand does the moves"),
  import: z.string().optional().describe('Convert a LeRobot calibration JSON instead of calibrating'),
  out: z.string().optional().describe('Where to write the calibration (default calibration/<arm>-<role>.json)'),
});

function terminalPrompts(out: NodeJS.WritableStream, names: readonly string[]): CalibrationPrompts {
  const rl = () => createInterface({ input: process.stdin, output: process.stdout });
  const liveUntilEnter = async (show: () => Promise<string>) => {
    const r = rl();
    let done = false;
    const answer = r.question('').then(() => (done = true));
    while (!done) {
      out.write(`\r${await show()}   `);
      await Promise.race([answer, new Promise((res) => setTimeout(res, 100))]);
    }
    r.close();
    out.write('\n');
  };
  return {
    async middle(live) {
      out.write('Move the arm to the MIDDLE of its range of motion (every joint about halfway), then press Enter.\n');
      await liveUntilEnter(async () => (await live()).map((t, i) => `${names[i]} ${t}`).join('  '));
    },
    async sweep(_live, ranges) {
      out.write('Move EVERY joint slowly through its WHOLE range, end to end, then press Enter.\n');
      await liveUntilEnter(async () => ranges().map((r) => `${r.name} ${r.min}…${r.max}`).join('  '));
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
  async run(o, { stdout, stderr }) {
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
      stderr.write('give --port PATH (or --sim, or --import FILE)\n');
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
      try {
        const prompts = sim ? simCalibrationHand(sim.arm) : terminalPrompts(stdout, profile.joints.map((j) => j.name));
        if (sim) stdout.write("calibrating the simulated arm: the simulator's hand holds it mid-range, then sweeps each joint\n");
        const cal = await calibrateArm(bus, profile, prompts);
        await saveCalibration(out, cal);
        for (const [name, j] of Object.entries(cal.joints)) {
          stdout.write(`  ${name.padEnd(14)} id ${j.id}  offset ${String(j.homing_offset).padStart(5)}  range ${j.range_min}…${j.range_max}\n`);
        }
        stdout.write(`calibration written to ${out} and to the servos\n`);
        return 0;
      } finally {
        await bus.close();
      }
    } finally {
      await sim?.close();
    }
  },
};
