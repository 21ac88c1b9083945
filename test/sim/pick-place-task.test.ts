import { describe, expect, it } from 'vitest';
import { approachAxis, toolFrame } from '../../src/sim/kinematics.ts';
import { CUBE_REST_Z, gripperAngle, regionPoint, SCENE_REGIONS } from '../../src/sim/pick-place-scene.ts';
import { PickPlaceTask } from '../../src/sim/pick-place-task.ts';
import { Rng } from '../../src/sim/random.ts';
import { topDownPose } from '../../src/sim/top-down-ik.ts';

type Arm = 'so101' | 'koch';
const ARMS: Arm[] = ['so101', 'koch'];

/** Joints (physical) with the tool point at p, pointing down, jaws square to the cube, gripper at `opening`. */
function at(arm: Arm, p: readonly number[], opening: number, yawRad = 0): number[] {
  const pose = topDownPose(arm, p, yawRad);
  if (!pose) throw new Error(`no top-down pose at ${p.join(',')}`);
  return [...pose.joints, gripperAngle(arm, opening)];
}

/** Cube and goal 15 cm (Koch: 12 cm) from the pan axis, ±20° off the arm's forward direction. */
function scene(arm: Arm) {
  const r = SCENE_REGIONS[arm];
  const d = arm === 'so101' ? 0.15 : 0.12;
  return { cube: regionPoint(r, d, -0.35, CUBE_REST_Z), goal: regionPoint(r, d, 0.35, CUBE_REST_Z), cubeYawRad: 0 };
}

/** `m` metres from p toward the pan axis (stays reachable), at height z. */
function inward(arm: Arm, p: readonly number[], m: number, z: number): number[] {
  const c = SCENE_REGIONS[arm].panAxis;
  const d = Math.hypot(p[0]! - c[0], p[1]! - c[1]);
  return [p[0]! - (m * (p[0]! - c[0])) / d, p[1]! - (m * (p[1]! - c[1])) / d, z];
}

describe.each(ARMS)('PickPlaceTask on the %s', (arm) => {
  const hover = SCENE_REGIONS[arm].hoverZ;

  it('finds top-down poses: the tool at the point within a millimetre, pointing straight down', () => {
    const s = scene(arm);
    for (const p of [s.cube, s.goal, [s.cube[0], s.cube[1], hover]]) {
      const pose = topDownPose(arm, p)!;
      expect(pose.errorM).toBeLessThan(1e-3);
      const f = toolFrame(arm, pose.joints);
      expect(approachAxis(arm, f)[2]).toBeLessThan(-0.999);
    }
  });

  it('draws reachable scenes from its seed: cube and goal apart, on the table, the same for the same seed', () => {
    const a = new PickPlaceTask({ arm });
    const b = new PickPlaceTask({ arm });
    const ra = new Rng(5);
    const rb = new Rng(5);
    for (let i = 0; i < 30; i++) {
      const s = a.sampleScene(ra);
      expect(b.sampleScene(rb)).toEqual(s);
      expect(Math.hypot(s.cube[0] - s.goal[0], s.cube[1] - s.goal[1])).toBeGreaterThanOrEqual(SCENE_REGIONS[arm].minSeparationM);
      expect(s.cube[2]).toBe(CUBE_REST_Z);
      expect(topDownPose(arm, s.cube)).toBeDefined();
      expect(topDownPose(arm, [s.goal[0], s.goal[1], hover])).toBeDefined();
    }
  });

  it('grasps when the gripper closes at the cube, carries it with the tool, and drops it straight down when it opens', () => {
    const task = new PickPlaceTask({ arm });
    const s = task.setScene(scene(arm));
    task.evaluate(at(arm, [s.cube[0], s.cube[1], hover], 0.9), 0);
    expect(task.evaluate(at(arm, s.cube, 0.9), 50).held).toBe(false);
    const grasp = task.evaluate(at(arm, s.cube, 0.1), 100);
    expect(grasp.held).toBe(true);
    expect(grasp.phase).toBe('carry');
    // Carried: the cube moves with the tool, 5 cm up and 4 cm along.
    const up = inward(arm, s.cube, 0.04, s.cube[2] + 0.05);
    task.evaluate(at(arm, up, 0.1), 150);
    const carried = task.state().cube;
    expect(carried[0]).toBeCloseTo(up[0]!, 3);
    expect(carried[2]).toBeCloseTo(up[2]!, 3);
    // Opening above the release threshold: the cube falls straight down onto the table.
    const released = task.evaluate(at(arm, up, 0.8), 200);
    expect(released.held).toBe(false);
    const st = task.state();
    expect(st.cube[0]).toBeCloseTo(up[0]!, 3);
    expect(st.cube[1]).toBeCloseTo(up[1]!, 3);
    expect(st.cube[2]).toBe(CUBE_REST_Z);
    expect(st.releases).toHaveLength(1);
    expect(st.releases[0]!.dropHeightM).toBeCloseTo(0.05, 2);
  });

  it('does not grasp when closing beside the cube, when already closed on arrival, or with the jaws across a corner', () => {
    const s = scene(arm);
    const beside = new PickPlaceTask({ arm });
    beside.setScene(s);
    beside.evaluate(at(arm, inward(arm, s.cube, 0.025, CUBE_REST_Z), 0.9), 0);
    expect(beside.evaluate(at(arm, inward(arm, s.cube, 0.025, CUBE_REST_Z), 0.1), 50).held).toBe(false);

    const closedFirst = new PickPlaceTask({ arm });
    closedFirst.setScene(s);
    closedFirst.evaluate(at(arm, [s.cube[0], s.cube[1], hover], 0.1), 0);
    closedFirst.evaluate(at(arm, s.cube, 0.1), 50);
    expect(closedFirst.evaluate(at(arm, s.cube, 0.05), 100).held).toBe(false);

    const corner = new PickPlaceTask({ arm });
    corner.setScene(s);
    corner.evaluate(at(arm, s.cube, 0.9, Math.PI / 4), 0);
    expect(corner.evaluate(at(arm, s.cube, 0.1, Math.PI / 4), 50).held).toBe(false);
    expect(corner.outcome()).toBe('never_grasped');
  });

  it('succeeds only with the cube released within 3 cm of the goal and the gripper clear of it', () => {
    const task = new PickPlaceTask({ arm });
    const s = task.setScene(scene(arm));
    task.evaluate(at(arm, s.cube, 0.9), 0);
    task.evaluate(at(arm, s.cube, 0.1), 50);
    const over = inward(arm, s.goal, 0.02, CUBE_REST_Z + 0.005);
    task.evaluate(at(arm, over, 0.1), 100);
    const opened = task.evaluate(at(arm, over, 0.9), 150);
    expect(opened.held).toBe(false);
    expect(opened.phase).toBe('placed');
    expect(opened.success).toBe(false); // the jaws are still around it
    expect(task.outcome()).toBe('not_clear');
    const clear = task.evaluate(at(arm, [over[0]!, over[1]!, hover], 0.9), 200);
    expect(clear.success).toBe(true);
    expect(clear.distanceM).toBeCloseTo(0.02, 3);
    expect(task.outcome()).toBe('success');
  });

  it('fails a cube set down 5 cm from the goal, and one dropped on the way', () => {
    for (const [where, height, reason] of [[0.05, 0.005, 'wrong_spot'], [0.04, 0.05, 'dropped']] as const) {
      const task = new PickPlaceTask({ arm });
      const s = task.setScene(scene(arm));
      task.evaluate(at(arm, s.cube, 0.9), 0);
      task.evaluate(at(arm, s.cube, 0.1), 50);
      const p = inward(arm, s.goal, where, CUBE_REST_Z + height);
      task.evaluate(at(arm, p, 0.1), 100);
      task.evaluate(at(arm, p, 0.9), 150);
      const end = task.evaluate(at(arm, [p[0]!, p[1]!, hover], 0.9), 200);
      expect(end.success).toBe(false);
      expect(task.outcome()).toBe(reason);
    }
  });

  it('shapes the reward by phase: tool to cube plus cube to goal before the grasp, cube to goal after, a bonus when placed', () => {
    const task = new PickPlaceTask({ arm });
    const s = task.setScene(scene(arm));
    const above = [s.cube[0], s.cube[1], hover];
    const r0 = task.evaluate(at(arm, above, 0.9), 0);
    const toGoal = Math.hypot(s.cube[0] - s.goal[0], s.cube[1] - s.goal[1]);
    expect(r0.reward).toBeCloseTo(-(hover - CUBE_REST_Z) - toGoal, 3);
    task.evaluate(at(arm, s.cube, 0.9), 50);
    const r1 = task.evaluate(at(arm, s.cube, 0.1), 100);
    expect(r1.reward).toBeCloseTo(-toGoal, 3);
    task.evaluate(at(arm, s.goal, 0.1), 150);
    task.evaluate(at(arm, s.goal, 0.9), 200);
    const r2 = task.evaluate(at(arm, [s.goal[0], s.goal[1], hover], 0.9), 250);
    expect(r2.success).toBe(true);
    expect(r2.reward).toBeCloseTo(task.successBonus - r2.distanceM, 3);
    expect(r2.reward).toBeGreaterThan(r1.reward);
  });
});
