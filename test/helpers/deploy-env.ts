/**
 * A deploy environment for the worker tests (see control/deploy-environment.ts): the simulated
 * so101 follower on the in-process binding, running on the loop's worker thread, that checks every
 * cycle that no servo's goal left its calibrated range, injects a fault at a given cycle, and at
 * close writes what it saw to `reportPath` (the test reads it on the main thread).
 */
import { writeFileSync } from 'node:fs';
import { JointConverter, loadCalibration } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import type { DeployEnvironment } from '../../src/control/deploy-environment.ts';
import { createSimArm } from '../../src/sim/presets.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';

export interface TestEnvParams {
  readonly reportPath: string;
  readonly faultAtCycle?: number;
  readonly fault?: 'unplug' | 'silent';
}

export interface TestEnvReport {
  readonly cycles: number;
  readonly goalViolations: number;
  readonly instructions: number;
  readonly torqueOnAtClose: boolean[];
  readonly goalsAtFault: number[] | null;
  readonly goalsAtClose: number[];
  /** The gripper's (id 6) Max_Torque_Limit at close: what the worker's Arm.open wrote. */
  readonly gripperMaxTorqueLimit: number;
}

export async function createDeployEnvironment(raw: unknown): Promise<DeployEnvironment> {
  const p = raw as TestEnvParams;
  const sim = createSimArm({ arm: 'so101', role: 'follower' });
  const cal = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const conv = armProfile('so101', 'follower').joints.map((j) => new JointConverter(j, cal.joints[j.name]!));
  const binding = new SimBinding();
  binding.register('/sim/follower', sim.bus);
  let cycles = 0;
  let goalViolations = 0;
  let goalsAtFault: number[] | null = null;
  const goals = () => sim.bus.servos.map((s) => s.get('Goal_Position'));
  return {
    path: '/sim/follower',
    binding,
    busTimeoutMs: 20,
    transport: 'the in-process binding (test environment)',
    onCycle() {
      cycles++;
      goals().forEach((t, i) => {
        if (t < conv[i]!.rangeMin || t > conv[i]!.rangeMax) goalViolations++;
      });
      if (cycles === p.faultAtCycle) {
        goalsAtFault = goals();
        if (p.fault === 'unplug') sim.bus.disconnect();
        else sim.bus.servo(3).faults.silent = true;
      }
    },
    summary: () => ({ cycles, goalViolations }),
    async close() {
      const report: TestEnvReport = { cycles, goalViolations, instructions: sim.bus.stats.instructions, torqueOnAtClose: sim.bus.servos.map((s) => s.torqueEnabled), goalsAtFault, goalsAtClose: goals(), gripperMaxTorqueLimit: sim.bus.servo(6).get('Max_Torque_Limit') };
      writeFileSync(p.reportPath, JSON.stringify(report));
      sim.bus.close();
    },
  };
}
