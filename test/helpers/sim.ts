import { MotorBus, type MotorBusOptions } from '../../src/bus/motor-bus.ts';
import type { ServoModelName } from '../../src/protocol/index.ts';
import { createSimArm, type SimArm, type SimArmKind, type SimArmRole } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';

export interface SimBusFixture<V extends 'feetech' | 'dynamixel'> {
  readonly arm: SimArm;
  readonly bus: MotorBus<V>;
  readonly binding: SimBinding;
  readonly path: string;
  close(): Promise<void>;
}

export async function openSimArmBus<V extends 'feetech' | 'dynamixel'>(
  kind: SimArmKind,
  role: SimArmRole = 'follower',
  options: Partial<MotorBusOptions<V>> = {},
): Promise<SimBusFixture<V>> {
  const arm = createSimArm({ arm: kind, role });
  const binding = new SimBinding();
  const path = `/sim/${kind}-${role}`;
  binding.register(path, arm.bus);
  const vendor = (kind === 'so101' ? 'feetech' : 'dynamixel') as V;
  const models: Record<number, ServoModelName> = {};
  for (const j of arm.joints) models[j.id] = j.model;
  const bus = await MotorBus.open<V>({ path, binding, vendor, baud: 1_000_000, models, timeoutMs: 20, ...options });
  return {
    arm,
    bus,
    binding,
    path,
    close: async () => {
      await bus.close();
      arm.bus.close();
    },
  };
}
