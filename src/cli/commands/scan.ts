import { z } from 'zod';
import { scanPort, SCAN_BAUDS } from '../../bus/scan.ts';
import { MotorBus } from '../../bus/motor-bus.ts';
import { armProfile } from '../../arm/profiles.ts';
import { readServoSettings } from '../../arm/servo-settings.ts';
import type { Vendor } from '../../protocol/index.ts';
import { openSimPort } from '../../workflows/sim-port.ts';
import { table } from '../../workflows/table.ts';
import type { Command } from '../command.ts';

const options = z.object({
  port: z.string().optional().describe('Serial port to scan, e.g. /dev/ttyACM0 or a simulator link'),
  sim: z.enum(['so101', 'koch']).optional().describe('Scan a simulated arm (in-process) instead of a port'),
  protocol: z.enum(['feetech', 'dynamixel', 'both']).default('both').describe('Which servo protocol to try'),
  baud: z.coerce.number().int().positive().optional().describe('Try only this baud rate'),
  allBauds: z
    .boolean()
    .default(false)
    .describe('Try every baud rate of every protocol asked for (default: stop at the first protocol and rate that answer)'),
  windowMs: z.coerce.number().int().positive().default(100).describe('How long to collect broadcast-ping answers per rate, ms'),
  list: z.boolean().default(false).describe('List the serial ports of this machine and exit'),
  arm: z.enum(['so101', 'koch']).optional().describe('Compare the servo settings with this arm\'s (default: so101 for Feetech servos, koch for Dynamixel)'),
  role: z.enum(['follower', 'leader']).default('follower').describe('Compare the servo settings with this role\'s'),
});

export const scanCommand: Command<typeof options> = {
  name: 'scan',
  summary: 'Find the servos on a port: protocol, baud rate, ids, models and firmware',
  options,
  examples: ['armbridge scan --port /dev/ttyACM0', 'armbridge scan --port /dev/ttyACM0 --all-bauds', 'armbridge scan --sim so101'],
  async run(o, { stdout, stderr }) {
    if (o.list) {
      const { autoDetect } = await import('@serialport/bindings-cpp');
      const ports = await autoDetect()
        .list()
        .catch((e: Error) => {
          stderr.write(`cannot list ports (${e.message}); look in /dev/serial/by-id or /dev/ttyACM* / ttyUSB*\n`);
          return [];
        });
      stdout.write(table(['path', 'manufacturer', 'serial'], ports.map((p) => [p.path, p.manufacturer ?? '', p.serialNumber ?? ''])));
      return 0;
    }
    if (!o.port && !o.sim) {
      stderr.write('give --port PATH (e.g. armbridge scan --port /dev/ttyACM0), or --sim so101|koch; list the ports with armbridge scan --list\n');
      return 2;
    }
    const sim = o.sim ? await openSimPort(o.sim, 'follower', 'in-process') : undefined;
    try {
      const vendors: Vendor[] = o.protocol === 'both' ? ['feetech', 'dynamixel'] : [o.protocol];
      const path = sim?.path ?? o.port!;
      stdout.write(`scanning ${path} (${vendors.join(', ')})…\n`);
      const found = await scanPort({
        path,
        binding: sim?.binding,
        vendors,
        bauds: o.baud ? [o.baud] : undefined,
        windowMs: o.windowMs,
        firstMatch: !o.allBauds,
        firstVendor: !o.allBauds,
        onProgress: (v, b, n) => stderr.write(`  ${v} @ ${b}: ${n} servo(s)\n`),
      });
      if (found.length === 0) {
        stdout.write(
          `no servos answered at ${vendors.map((v) => SCAN_BAUDS[v].join('/')).join(' or ')} baud: check power (servos need their own supply), the cable, and the protocol\n`,
        );
        return 1;
      }
      stdout.write(table(['protocol', 'baud', 'id', 'model', 'model number', 'firmware'], found.map((s) => [s.vendor, s.baud, s.id, s.model ?? 'unknown', s.modelNumber, s.firmware])));
      const answered = [...new Set(found.map((s) => `${s.vendor} at ${s.baud} baud`))];
      stdout.write(
        `${found.length} servo(s) answered: ${answered.join(', ')}` +
          (o.allBauds ? '\n' : '; stopped at the first protocol and rate that answered (--all-bauds tries every rate and protocol)\n'),
      );
      // The settings armbridge writes when it opens this arm (arm/profiles.ts), as the servos hold them now.
      const vendor = found[0]!.vendor;
      const profile = armProfile(o.arm ?? (vendor === 'feetech' ? 'so101' : 'koch'), o.role);
      const ids = new Set(found.filter((s) => s.vendor === profile.vendor && s.baud === found[0]!.baud).map((s) => s.id));
      if (profile.vendor === vendor && profile.joints.every((j) => ids.has(j.id))) {
        const bus = await MotorBus.open({ path, binding: sim?.binding, vendor: profile.vendor, baud: found[0]!.baud, models: Object.fromEntries(profile.joints.map((j) => [j.id, j.model])) });
        try {
          const rows = await readServoSettings(bus, profile);
          stdout.write(`\nservo settings of the ${profile.kind} ${profile.role} (written when an arm opens: teleop, record, deploy, eval):\n`);
          stdout.write(table(['joint', 'register', 'armbridge sets', 'servo holds', '', 'why'], rows.map((r) => [r.joint, r.register, r.mask !== undefined ? `bits ${r.mask.toString(2)} = ${(r.value & r.mask).toString(2)}` : r.value, r.actual ?? `? (${r.error ?? 'no answer'})`, r.matches ? 'ok' : 'differs', r.reason.length > 70 ? `${r.reason.slice(0, 69)}…` : r.reason])));
          const differ = rows.filter((r) => !r.matches).length;
          stdout.write(`${rows.length - differ} of ${rows.length} as armbridge sets them${differ ? `; the ${differ} others are written the next time armbridge opens the arm` : ''}\n`);
        } finally {
          await bus.close();
        }
      } else {
        stdout.write(`these servos are not a ${profile.kind} ${profile.role} (ids ${profile.joints.map((j) => j.id).join(',')}, ${profile.vendor}): give --arm / --role to compare their settings\n`);
      }
      return 0;
    } finally {
      await sim?.close();
    }
  },
};
