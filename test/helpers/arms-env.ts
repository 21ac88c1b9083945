/**
 * A loop environment for the loop-worker tests of teleop and record (see control/deploy-environment.ts):
 * the simulated so101 leader (moved by the scripted operator) and follower on the in-process binding,
 * on the loop's worker thread. Every cycle it checks that no follower goal left its calibrated range,
 * injects a fault at a given cycle, and at close writes what it saw to `reportPath` (the test reads it
 * on the main thread): the follower's torque and goals, what happened at the fault.
 */
import { writeFileSync } from 'node:fs';
import { JointConverter, loadCalibration } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import type { LoopEnvironment } from '../../src/control/deploy-environment.ts';
import { SimBinding } from '../../src/sim/sim-binding.ts';
import { SimWorld } from '../../src/sim/world.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';

export interface ArmsEnvParams {
  readonly reportPath: string;
  readonly faultAtCycle?: number;
  readonly fault?: 'unplug-leader' | 'unplug-follower' | 'silent-leader';
  /** Give the recording session episode hooks and a task sample. */
  readonly record?: boolean;
}

export interface ArmsEnvReport {
  readonly cycles: number;
  readonly goalViolations: number;
  readonly torqueOnAtClose: boolean[];
  readonly goalsAtFault: number[] | null;
  readonly goalsAtClose: number[];
  readonly episodeStarts: number;
  readonly resets: number;
}

export async function createLoopEnvironment(raw: unknown): Promise<LoopEnvironment> {
  const p = raw as ArmsEnvParams;
  const world = new SimWorld({ arm: 'so101', seed: 4 });
  const cal = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const conv = armProfile('so101', 'follower').joints.map((j) => new JointConverter(j, cal.joints[j.name]!));
  const binding = new SimBinding();
  binding.register('/sim/leader', world.leader.bus);
  binding.register('/sim/follower', world.follower.bus);
  world.startEpisode('expert');
  let cycles = 0;
  let goalViolations = 0;
  let goalsAtFault: number[] | null = null;
  let episodeStarts = 0;
  let resets = 0;
  const goals = () => world.follower.bus.servos.map((s) => s.get('Goal_Position'));
  const target = new Float64Array(3);
  return {
    path: '/sim/follower',
    binding,
    busTimeoutMs: 20,
    leader: { path: '/sim/leader', binding, busTimeoutMs: 20 },
    transport: 'the in-process binding (test environment)',
    extra: p.record ? { layout: [{ name: 'target.position', size: 3 }], read: () => (target.set(world.task.positions()[0]!), target) } : undefined,
    episodes: p.record
      ? {
          start: (i) => {
            episodeStarts++;
            world.startEpisode('expert');
            return { operator: 'test', detail: { i } };
          },
          reset: () => {
            resets++;
          },
        }
      : undefined,
    onCycle() {
      cycles++;
      goals().forEach((t, i) => {
        if (t < conv[i]!.rangeMin || t > conv[i]!.rangeMax) goalViolations++;
      });
      if (cycles === p.faultAtCycle) {
        goalsAtFault = goals();
        if (p.fault === 'unplug-leader') world.leader.bus.disconnect();
        else if (p.fault === 'unplug-follower') world.follower.bus.disconnect();
        else world.leader.bus.servo(2).faults.silent = true;
      }
      const ev = world.evaluate();
      return { reward: ev.reward, success: ev.success };
    },
    summary: () => ({ cycles, goalViolations }),
    async close() {
      const report: ArmsEnvReport = { cycles, goalViolations, torqueOnAtClose: world.follower.bus.servos.map((s) => s.torqueEnabled), goalsAtFault, goalsAtClose: goals(), episodeStarts, resets };
      writeFileSync(p.reportPath, JSON.stringify(report));
      world.close();
    },
  };
}
