/** Options shared by the commands that drive a leader/follower pair. */
import { z } from 'zod';
import { parseServoSettingOverrides, type ServoSettingOverride } from '../arm/servo-settings.ts';
import { UsageError } from './command.ts';

export const armPairOptions = {
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type (leader and follower)'),
  leader: z.string().optional().describe('Serial port of the leader arm'),
  follower: z.string().optional().describe('Serial port of the follower arm'),
  leaderCalibration: z.string().optional().describe('Leader calibration file (default calibration/<arm>-leader.json)'),
  followerCalibration: z.string().optional().describe('Follower calibration file (default calibration/<arm>-follower.json)'),
  servoSetting: z
    .string()
    .optional()
    .describe("Override the follower's servo settings (src/arm/profiles.ts): joint.Register=value[,…], e.g. gripper.Max_Torque_Limit=400; real arms only"),
};

/** The follower's servo-setting overrides from --servo-setting (UsageError for a malformed one, or with --sim / --kinesthetic). */
export function followerServoSettings(o: { readonly servoSetting?: string | undefined; readonly sim?: boolean; readonly kinesthetic?: boolean }): ServoSettingOverride[] {
  if (o.servoSetting === undefined) return [];
  if (o.sim || o.kinesthetic) throw new UsageError('--servo-setting applies to a real follower driven from a leader (not with --sim or --kinesthetic)');
  try {
    return parseServoSettingOverrides(o.servoSetting);
  } catch (e) {
    throw new UsageError(`--servo-setting: ${(e as Error).message}`, { cause: e });
  }
}
