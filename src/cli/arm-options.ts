/** Options shared by the commands that drive a leader/follower pair. */
import { z } from 'zod';

export const armPairOptions = {
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type (leader and follower)'),
  leader: z.string().optional().describe('Serial port of the leader arm'),
  follower: z.string().optional().describe('Serial port of the follower arm'),
  leaderCalibration: z.string().optional().describe('Leader calibration file (default calibration/<arm>-leader.json)'),
  followerCalibration: z.string().optional().describe('Follower calibration file (default calibration/<arm>-follower.json)'),
};
