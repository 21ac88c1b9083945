/**
 * The model-metadata contract: what a trained policy file says about itself (stored as ONNX
 * metadata_props, string values) so the control loop can refuse a model that does not fit the arm.
 */
import type { LabelSource } from './action-labels.ts';
import type { Layout } from './features.ts';

export const POLICY_FORMAT = 'armbridge.policy/1';

export interface PolicyMetadata {
  readonly format: typeof POLICY_FORMAT;
  readonly arm: string;
  readonly jointNames: readonly string[];
  readonly observation: Layout['observation'];
  readonly action: Layout['action'];
  readonly policyKind: 'mlp-deterministic' | 'mlp-gaussian';
  readonly algo: string;
  /** Control rate of the training data (Hz): the rate the policy was learned at and should run at. Undefined in older models. */
  readonly rateHz?: number;
  /** How actions are produced: 'absolute' (the network outputs target positions) or 'relative' (a change the graph adds to follower.position). */
  readonly actionMode?: 'absolute' | 'relative';
  /**
   * How the training actions were labelled: the recorded `/action`, derived from the follower's
   * states (`follower.position` `labelHorizonSteps` control steps ahead: recordings without
   * actions, e.g. kinesthetic teaching), or mixed. Undefined in older models (recorded).
   */
  readonly actionLabels?: LabelSource;
  readonly labelHorizonSteps?: number;
  /**
   * Trained on simulated recordings: the task and bench they were made on (eval and deploy --sim
   * default to them). Undefined for real recordings and older models.
   */
  readonly sim?: { readonly task?: string; readonly scene?: string; readonly observe?: string; readonly poseNoiseM?: number; readonly poseLatencyMs?: number; readonly rewards?: string };
  /** Where the training episodes started: the mean first follower.position (radians; gripper 0…1). eval on an arm starts each episode there. */
  readonly startPose?: readonly number[];
  /** Length of the training episodes, s (the recordings' episode_s), when they say. */
  readonly episodeS?: number;
  /** sha256 of the training recordings, in order. */
  readonly dataDigest: string;
  readonly trainingBackend: string;
  readonly created: string;
}

export function metadataToProps(m: PolicyMetadata): Record<string, string> {
  return {
    'armbridge.format': m.format,
    'armbridge.arm': m.arm,
    'armbridge.joint_names': m.jointNames.join(','),
    'armbridge.observation': JSON.stringify(m.observation),
    'armbridge.action': JSON.stringify(m.action),
    'armbridge.policy_kind': m.policyKind,
    'armbridge.algo': m.algo,
    ...(m.rateHz !== undefined ? { 'armbridge.rate_hz': String(m.rateHz) } : {}),
    ...(m.actionMode !== undefined ? { 'armbridge.action_mode': m.actionMode } : {}),
    ...(m.actionLabels !== undefined ? { 'armbridge.action_labels': m.actionLabels } : {}),
    ...(m.labelHorizonSteps !== undefined ? { 'armbridge.action_labels_derived_from': `follower.position +${m.labelHorizonSteps} steps`, 'armbridge.action_label_horizon_steps': String(m.labelHorizonSteps) } : {}),
    ...(m.sim
      ? Object.fromEntries(
          Object.entries({ task: m.sim.task, scene: m.sim.scene, observe: m.sim.observe, pose_noise_m: m.sim.poseNoiseM, pose_latency_ms: m.sim.poseLatencyMs, rewards: m.sim.rewards })
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [`armbridge.sim_${k}`, String(v)]),
        )
      : {}),
    ...(m.startPose ? { 'armbridge.start_pose': m.startPose.join(',') } : {}),
    ...(m.episodeS !== undefined ? { 'armbridge.episode_s': String(m.episodeS) } : {}),
    'armbridge.data_digest': m.dataDigest,
    'armbridge.training_backend': m.trainingBackend,
    'armbridge.created': m.created,
  };
}

/** Parses metadata props back; returns undefined for a model without armbridge metadata. */
export function propsToMetadata(props: Readonly<Record<string, string>>): PolicyMetadata | undefined {
  if (props['armbridge.format'] !== POLICY_FORMAT) return undefined;
  return {
    format: POLICY_FORMAT,
    arm: props['armbridge.arm'] ?? '',
    jointNames: (props['armbridge.joint_names'] ?? '').split(',').filter(Boolean),
    observation: JSON.parse(props['armbridge.observation'] ?? '[]') as Layout['observation'],
    action: JSON.parse(props['armbridge.action'] ?? '[]') as Layout['action'],
    policyKind: props['armbridge.policy_kind'] === 'mlp-gaussian' ? 'mlp-gaussian' : 'mlp-deterministic',
    algo: props['armbridge.algo'] ?? '',
    rateHz: props['armbridge.rate_hz'] !== undefined && Number(props['armbridge.rate_hz']) > 0 ? Number(props['armbridge.rate_hz']) : undefined,
    actionMode: props['armbridge.action_mode'] === 'relative' ? 'relative' : props['armbridge.action_mode'] === 'absolute' ? 'absolute' : undefined,
    actionLabels: props['armbridge.action_labels'] === 'recorded' || props['armbridge.action_labels'] === 'derived' || props['armbridge.action_labels'] === 'mixed' ? props['armbridge.action_labels'] : undefined,
    labelHorizonSteps: Number(props['armbridge.action_label_horizon_steps']) >= 1 ? Number(props['armbridge.action_label_horizon_steps']) : undefined,
    sim: simOf(props),
    startPose: startPoseOf(props['armbridge.start_pose']),
    episodeS: Number(props['armbridge.episode_s']) > 0 ? Number(props['armbridge.episode_s']) : undefined,
    dataDigest: props['armbridge.data_digest'] ?? '',
    trainingBackend: props['armbridge.training_backend'] ?? '',
    created: props['armbridge.created'] ?? '',
  };
}

function simOf(props: Readonly<Record<string, string>>): PolicyMetadata['sim'] {
  const keys = Object.keys(props).filter((k) => k.startsWith('armbridge.sim_'));
  if (!keys.length) return undefined;
  const num = (k: string) => (props[k] !== undefined && Number.isFinite(Number(props[k])) ? Number(props[k]) : undefined);
  return { task: props['armbridge.sim_task'], scene: props['armbridge.sim_scene'], observe: props['armbridge.sim_observe'], poseNoiseM: num('armbridge.sim_pose_noise_m'), poseLatencyMs: num('armbridge.sim_pose_latency_ms'), rewards: props['armbridge.sim_rewards'] };
}

/** The start pose, or undefined unless every value parses (a damaged one is not half used). */
function startPoseOf(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  const v = text.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  return v.every(Number.isFinite) ? v : undefined;
}
