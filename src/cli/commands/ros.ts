import { z } from 'zod';
import { loadRclnodejs } from '../../ros/rclnodejs.ts';
import type { Command } from '../command.ts';

const options = z.object({
  mode: z.enum(['bridge', 'record', 'deploy']).default('bridge').describe('bridge: publish /joint_states and accept ros2_control commands; record; deploy'),
});

export const rosCommand: Command<typeof options> = {
  name: 'ros',
  summary: 'The ROS 2 node (needs a sourced ROS 2 and rclnodejs)',
  options,
  async run(o, { stderr }) {
    await loadRclnodejs();
    stderr.write(`armbridge ros ${o.mode}: the ROS 2 node itself is not built yet (message mapping is in src/ros/mapping.ts)\n`);
    return 1;
  },
};
