import { join } from 'node:path';
import { metadataToProps, POLICY_FORMAT, type PolicyMetadata } from '../../src/dataset/policy-metadata.ts';
import { writeOnnx } from '../../src/learn/onnx-export.ts';

export const SO101_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

export interface LinearPolicyOptions {
  /** Also observe the task's target (3 values, ignored by the action). */
  readonly withTarget?: boolean;
  /** Also observe the pick-and-place poses (object and goal, 6 values, ignored by the action). */
  readonly withObjectAndGoal?: boolean;
  readonly name?: string;
  /** action_i = weight · joint_i + bias. Default 1 and 0: the identity. */
  readonly weight?: number;
  readonly bias?: number;
  /** Metadata overrides; null: no armbridge metadata at all. */
  readonly meta?: Partial<PolicyMetadata> | null;
}

/**
 * A one-layer so101 policy, action_i = weight · joint_i + bias (the identity by default), with a
 * target observed and ignored when `withTarget`. Written to `dir/name` (a fresh name by default).
 */
export async function identityPolicy(dir: string, options: LinearPolicyOptions = {}): Promise<string> {
  const inputs = 6 + (options.withTarget ? 3 : 0) + (options.withObjectAndGoal ? 6 : 0);
  const path = join(dir, options.name ?? `policy-${Math.random().toString(36).slice(2)}.onnx`);
  const w = new Float32Array(inputs * 6);
  for (let i = 0; i < 6; i++) w[i * 6 + i] = options.weight ?? 1;
  const meta: PolicyMetadata = {
    format: POLICY_FORMAT,
    arm: 'so101',
    jointNames: SO101_JOINTS,
    observation: [{ name: 'follower.position', size: 6 }, ...(options.withTarget ? [{ name: 'target.position', size: 3 }] : []), ...(options.withObjectAndGoal ? [{ name: 'object.position', size: 3 }, { name: 'goal.position', size: 3 }] : [])],
    action: [{ name: 'action.position', size: 6 }],
    policyKind: 'mlp-deterministic',
    algo: 'bc',
    dataDigest: '0',
    trainingBackend: 'test',
    created: 'now',
  };
  await writeOnnx(path, {
    layers: [{ inputs, outputs: 6, weight: w, bias: new Float32Array(6).fill(options.bias ?? 0) }],
    obsMean: new Float32Array(inputs),
    obsStd: new Float32Array(inputs).fill(1),
    actMean: new Float32Array(6),
    actStd: new Float32Array(6).fill(1),
    metadata: options.meta === null ? {} : metadataToProps({ ...meta, ...options.meta }),
  });
  return path;
}
