import { join } from 'node:path';
import { metadataToProps, POLICY_FORMAT } from '../../src/dataset/policy-metadata.ts';
import { writeOnnx } from '../../src/learn/onnx-export.ts';

export const SO101_JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

/**
 * A one-layer so101 policy: action = the observed joints (identity), with a target observed and
 * ignored when `withTarget`. Written to `dir/name`.
 */
export async function identityPolicy(dir: string, options: { withTarget?: boolean; name?: string } = {}): Promise<string> {
  const inputs = options.withTarget ? 9 : 6;
  const path = join(dir, options.name ?? 'identity.onnx');
  const w = new Float32Array(inputs * 6);
  for (let i = 0; i < 6; i++) w[i * 6 + i] = 1;
  await writeOnnx(path, {
    layers: [{ inputs, outputs: 6, weight: w, bias: new Float32Array(6) }],
    obsMean: new Float32Array(inputs),
    obsStd: new Float32Array(inputs).fill(1),
    actMean: new Float32Array(6),
    actStd: new Float32Array(6).fill(1),
    metadata: metadataToProps({
      format: POLICY_FORMAT,
      arm: 'so101',
      jointNames: SO101_JOINTS,
      observation: [{ name: 'follower.position', size: 6 }, ...(options.withTarget ? [{ name: 'target.position', size: 3 }] : [])],
      action: [{ name: 'action.position', size: 6 }],
      policyKind: 'mlp-deterministic',
      algo: 'bc',
      dataDigest: '0',
      trainingBackend: 'test',
      created: 'now',
    }),
  });
  return path;
}
