import { z } from 'zod';
import { checkCalibration, loadCalibrationAnyFormat, type Calibration } from '../../arm/calibration.ts';
import { armProfile, type ArmKind, type ArmRole } from '../../arm/profiles.ts';
import { CalibrationHand } from '../../sim/calibration-hand.ts';
import type { MountJoint } from '../../sim/calibration-mount.ts';
import { createSimArm } from '../../sim/presets.ts';
import { PtySimServer } from '../../sim/pty-server.ts';
import { UsageError, type Command } from '../command.ts';
import { runSimPair, simPairOptions } from '../sim-pair.ts';

const options = z.object({
  arm: z.enum(['so101', 'koch']).default('so101').describe('Which arm to simulate'),
  role: z.enum(['follower', 'leader']).default('follower').describe('Follower or leader arm (servo models differ on Koch)'),
  link: z.string().optional().describe('Path where the simulated serial port appears (a pty symlink), e.g. /tmp/so101-follower (required without --pair)'),
  calibration: z
    .string()
    .optional()
    .describe("Mount the servos after this calibration (armbridge or LeRobot format): its ranges become the joints' travel and the servos hold it in EEPROM"),
  hand: z
    .enum(['none', 'calibrate'])
    .default('none')
    .describe('calibrate: a hand moves the joints when a calibration over the port asks a person to (holds mid-range, then sweeps each joint); you still press Enter in calibrate'),
  ...simPairOptions,
});

/** A calibration file of either format, checked against the arm it is mounted on. */
export async function loadMountCalibration(path: string, arm: ArmKind, role: ArmRole): Promise<Calibration> {
  const profile = armProfile(arm, role);
  const c = await loadCalibrationAnyFormat(path, profile);
  checkCalibration(c, profile);
  return c;
}

export function mountOf(c: Calibration): MountJoint[] {
  return Object.entries(c.joints).map(([name, j]) => ({ name, id: j.id, homingOffset: j.homing_offset, rangeMin: j.range_min, rangeMax: j.range_max }));
}

const HAND_SAYS = {
  idle: 'let go (calibration written or arm opened); waiting for the next calibration',
  holding: 'holding every joint near mid-range (calibration reset seen); press Enter in calibrate',
  sweeping: 'sweeping each joint end to end, round after round (homing offsets seen); press Enter in calibrate after a full round',
} as const;

export const simCommand: Command<typeof options> = {
  name: 'sim',
  summary: 'Serve a simulated arm on a real pty (needs socat) until interrupted; --pair: a leader and follower in one world, the leader in a scripted person\'s hand',
  options,
  examples: [
    'armbridge sim --arm so101 --link /tmp/so101-follower',
    'armbridge sim --arm koch --role leader --link /tmp/koch-leader',
    'armbridge sim --arm so101 --link /tmp/so101-follower --hand calibrate   # then: armbridge calibrate --port /tmp/so101-follower',
    'armbridge sim --arm so101 --link /tmp/so101-follower --calibration ~/.cache/huggingface/lerobot/calibration/robots/so_follower/my_arm.json',
    'armbridge sim --pair --arm so101 --task reach --scene fixed --leader-link /tmp/so101-leader --follower-link /tmp/so101-follower --cadence 6,3',
  ],
  async run(o, ctx) {
    if (o.pair) return runSimPair(o, ctx, async (path, role) => mountOf(await loadMountCalibration(path, o.arm, role)));
    const { stdout, signal } = ctx;
    if (!o.link) throw new UsageError('give --link PATH (where the simulated port appears, e.g. /tmp/so101-follower), or --pair for a leader and follower');
    const calibration = o.calibration ? await loadMountCalibration(o.calibration, o.arm, o.role) : undefined;
    const arm = createSimArm({ arm: o.arm, role: o.role, mount: calibration && mountOf(calibration) });
    const server = await PtySimServer.start({ bus: arm.bus, link: o.link });
    const hand = o.hand === 'calibrate' ? new CalibrationHand(arm.bus, { onState: (s) => stdout.write(`hand: ${HAND_SAYS[s]}\n`) }) : undefined;
    try {
      const models = [...new Set(arm.joints.map((j) => j.model))].join(', ');
      stdout.write(
        `serving a simulated ${o.arm} ${o.role} (${arm.joints.length} servos: ${models}; ids ${arm.joints.map((j) => j.id).join(',')}; ` +
          `${arm.bus.vendor === 'feetech' ? 'Feetech STS' : 'Dynamixel 2.0'} at 1 Mbps) at ${o.link}\n` +
          (calibration ? `mounted after ${o.calibration}: each joint's travel is its calibrated range, the servos hold the calibration\n` : '') +
          `open it like a real port, e.g. armbridge scan --port ${o.link}; Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      stdout.write(`stopped; served ${arm.bus.stats.instructions} instructions, ${arm.bus.stats.replies} replies\n`);
      return 0;
    } finally {
      hand?.stop();
      await server.close();
      arm.bus.close();
    }
  },
};
