import { describe, expect, it } from 'vitest';
import { MotorBus } from '../../src/bus/motor-bus.ts';
import { scanPort } from '../../src/bus/scan.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';

describe('scanPort', () => {
  it('finds the six STS3215 of a simulated SO-101 at 1 Mbps and none as Dynamixel', async () => {
    const arm = createSimArm({ arm: 'so101', role: 'follower' });
    const binding = new SimBinding();
    binding.register('/sim/so', arm.bus);
    const found = await scanPort({ path: '/sim/so', binding, windowMs: 20, firstMatch: true });
    expect(found.map((f) => [f.vendor, f.baud, f.id, f.model])).toEqual([1, 2, 3, 4, 5, 6].map((id) => ['feetech', 1_000_000, id, 'sts3215']));
    arm.bus.close();
  });

  it('finds a Koch bus moved to 57600 baud, naming each model', async () => {
    const arm = createSimArm({ arm: 'koch', role: 'follower' });
    const binding = new SimBinding();
    binding.register('/sim/koch', arm.bus);
    {
      await using bus = await MotorBus.open({ path: '/sim/koch', binding, vendor: 'dynamixel', baud: 1_000_000 });
      for (const id of [1, 2, 3, 4, 5, 6]) await bus.write(id, 'Baud_Rate', 1);
    }
    const found = await scanPort({ path: '/sim/koch', binding, vendors: ['dynamixel'], windowMs: 80, firstMatch: true });
    expect(found.map((f) => `${f.id}:${f.model}@${f.baud}`)).toEqual([
      '1:xl430-w250@57600', '2:xl430-w250@57600', '3:xl330-m288@57600', '4:xl330-m288@57600', '5:xl330-m288@57600', '6:xl330-m288@57600',
    ]);
    arm.bus.close();
  });
});
