import { Arm } from '../../src/arm/arm.ts';
import { loadCalibration, type Calibration } from '../../src/arm/calibration.ts';
import { armProfile, type ArmKind, type ArmRole } from '../../src/arm/profiles.ts';
import { createSimArm, type SimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';

export async function shippedCalibration(kind: ArmKind, role: ArmRole): Promise<Calibration> {
  return loadCalibration(simCalibrationPath(kind, role));
}

/** A simulated arm behind the in-process binding, opened as an Arm with a calibration. */
export async function openSimArm(kind: ArmKind, role: ArmRole, calibration?: Calibration, sim: SimArm = createSimArm({ arm: kind, role })) {
  const binding = new SimBinding();
  binding.register('/sim/arm', sim.bus);
  const arm = await Arm.open({ profile: armProfile(kind, role), calibration: calibration ?? (await shippedCalibration(kind, role)), path: '/sim/arm', binding, bus: { timeoutMs: 20 } });
  return {
    arm,
    sim,
    binding,
    close: async (options?: { torqueOff?: boolean }) => {
      await arm.close(options);
      sim.bus.close();
    },
  };
}
