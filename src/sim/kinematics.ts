/**
 * Forward kinematics of the simulated arms from their public URDF joint tables (ARMS.md §1.1, §2.2):
 * chain the fixed origins (URDF fixed-axis RPY: R = Rz(yaw)·Ry(pitch)·Rx(roll)) and rotate each
 * revolute joint about its axis. Returns the tool frame position in the base frame, metres.
 */

interface UrdfJoint {
  readonly xyz: readonly [number, number, number];
  readonly rpy: readonly [number, number, number];
  /** Rotation axis for a revolute joint; undefined for a fixed one. */
  readonly axis?: readonly [number, number, number];
}

type Mat = Float64Array; // 4×4 row-major

function mul(a: Mat, b: Mat): Mat {
  const o = new Float64Array(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      o[r * 4 + c] = s;
    }
  return o;
}

function fromRotation(R: number[][], p: readonly number[] = [0, 0, 0]): Mat {
  return Float64Array.from([R[0]![0]!, R[0]![1]!, R[0]![2]!, p[0]!, R[1]![0]!, R[1]![1]!, R[1]![2]!, p[1]!, R[2]![0]!, R[2]![1]!, R[2]![2]!, p[2]!, 0, 0, 0, 1]);
}

function rpy(r: number, p: number, y: number): number[][] {
  const [cr, sr, cp, sp, cy, sy] = [Math.cos(r), Math.sin(r), Math.cos(p), Math.sin(p), Math.cos(y), Math.sin(y)];
  return [
    [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
    [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
    [-sp, cp * sr, cp * cr],
  ];
}

function axisAngle(a: readonly number[], q: number): number[][] {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!);
  const [x, y, z] = [a[0]! / n, a[1]! / n, a[2]! / n];
  const [c, s, t] = [Math.cos(q), Math.sin(q), 1 - Math.cos(q)];
  return [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
}

/** SO-101 (so101_new_calib.urdf) chain base_link → gripper_frame_link; five revolute joints. */
const SO101_CHAIN: readonly UrdfJoint[] = [
  { xyz: [0.0388353, -8.97657e-9, 0.0624], rpy: [3.14159, 4.18253e-17, -3.14159], axis: [0, 0, 1] },
  { xyz: [-0.0303992, -0.0182778, -0.0542], rpy: [-1.5708, -1.5708, 0], axis: [0, 0, 1] },
  { xyz: [-0.11257, -0.028, 1.73763e-16], rpy: [-3.63608e-16, 8.74301e-16, 1.5708], axis: [0, 0, 1] },
  { xyz: [-0.1349, 0.0052, 3.62355e-17], rpy: [4.02456e-15, 8.67362e-16, -1.5708], axis: [0, 0, 1] },
  { xyz: [5.55112e-17, -0.0611, 0.0181], rpy: [1.5708, 0.0486795, 3.14159], axis: [0, 0, 1] },
  { xyz: [-0.0079, -0.000218121, -0.0981274], rpy: [0, 3.14159, 0] },
];

/** Koch v1.1 (ManiSkill follower_arm_v1.1_simplified.urdf) chain base_link → gripper_tcp. */
const KOCH_CHAIN: readonly UrdfJoint[] = [
  { xyz: [0.005766, -0.028665, 0.018513], rpy: [0, 0, 0] },
  { xyz: [0, -0.011858, 0.020066], rpy: [0, 0, 0], axis: [0, 0, 1] },
  { xyz: [0.020713, 0, 0.015368], rpy: [0, 0, 0], axis: [1, 0, 0] },
  { xyz: [-0.038026, -0.014951, 0.108424], rpy: [0, 0, 0], axis: [1, 0, 0] },
  { xyz: [-0.000251, -0.100502, 0.002641], rpy: [0, 0, 0], axis: [1, 0, 0] },
  { xyz: [0.019234, 0.00037, -0.044779], rpy: [0, 0, 0], axis: [0, 0, 1] },
  { xyz: [-0.008, 0, -0.065], rpy: [0, 0, 0] },
];

export type KinematicArm = 'so101' | 'koch';

/** Tool frame in the base frame: position (m) and rotation (3×3 row-major; columns are the tool's axes). */
export interface ToolFrame {
  readonly position: [number, number, number];
  readonly rotation: readonly number[];
}

/** The tool frame for joint angles q (radians, arm joint order, gripper ignored). */
export function toolFrame(arm: KinematicArm, q: ArrayLike<number>): ToolFrame {
  const chain = arm === 'so101' ? SO101_CHAIN : KOCH_CHAIN;
  let M = fromRotation([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  let k = 0;
  for (const j of chain) {
    M = mul(M, fromRotation(rpy(j.rpy[0], j.rpy[1], j.rpy[2]), j.xyz));
    if (j.axis) M = mul(M, fromRotation(axisAngle(j.axis, q[k++] ?? 0)));
  }
  return { position: [M[3]!, M[7]!, M[11]!], rotation: [M[0]!, M[1]!, M[2]!, M[4]!, M[5]!, M[6]!, M[8]!, M[9]!, M[10]!] };
}

/** Tool position (x, y, z) in metres for joint angles q (radians, arm joint order, gripper ignored). */
export function forwardKinematics(arm: KinematicArm, q: ArrayLike<number>): [number, number, number] {
  return toolFrame(arm, q).position;
}

/**
 * The direction the gripper points (its approach axis) in the base frame: z of gripper_frame_link
 * on the SO-101 (ARMS.md §1.2), −z of gripper_tcp on the Koch (its tool hangs down at zero, §2.2).
 */
export function approachAxis(arm: KinematicArm, f: ToolFrame): [number, number, number] {
  const r = f.rotation;
  const s = arm === 'so101' ? 1 : -1;
  return [s * r[2]!, s * r[5]!, s * r[8]!];
}

/** Yaw (rad, about +z of the base) of the tool's x axis projected on the table: where the jaws face. */
export function jawYaw(f: ToolFrame): number {
  const r = f.rotation;
  return Math.atan2(r[3]!, r[0]!);
}
