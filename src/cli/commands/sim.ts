import { z } from 'zod';
import { createSimArm } from '../../sim/presets.ts';
import { PtySimServer } from '../../sim/pty-server.ts';
import type { Command } from '../command.ts';

const options = z.object({
  arm: z.enum(['so101', 'koch']).default('so101').describe('Which arm to simulate'),
  role: z.enum(['follower', 'leader']).default('follower').describe('Follower or leader arm (servo models differ on Koch)'),
  link: z.string().describe('Path where the simulated serial port appears (a pty symlink), e.g. /tmp/so101-follower'),
});

export const simCommand: Command<typeof options> = {
  name: 'sim',
  summary: 'Serve a simulated arm on a real pty (needs socat) until interrupted',
  options,
  examples: ['armbridge sim --arm so101 --link /tmp/so101-follower', 'armbridge sim --arm koch --role leader --link /tmp/koch-leader'],
  async run(o, { stdout, signal }) {
    const arm = createSimArm({ arm: o.arm, role: o.role });
    const server = await PtySimServer.start({ bus: arm.bus, link: o.link });
    try {
      const models = [...new Set(arm.joints.map((j) => j.model))].join(', ');
      stdout.write(
        `serving a simulated ${o.arm} ${o.role} (${arm.joints.length} servos: ${models}; ids ${arm.joints.map((j) => j.id).join(',')}; ` +
          `${arm.bus.vendor === 'feetech' ? 'Feetech STS' : 'Dynamixel 2.0'} at 1 Mbps) at ${o.link}\n` +
          `open it like a real port, e.g. armbridge scan --port ${o.link}; Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      stdout.write(`stopped; served ${arm.bus.stats.instructions} instructions, ${arm.bus.stats.replies} replies\n`);
      return 0;
    } finally {
      await server.close();
      arm.bus.close();
    }
  },
};
