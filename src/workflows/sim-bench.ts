/** The simulated bench's settings (light: no onnxruntime), shared by recording, evaluation and training. */
import type { PolicyMetadata } from '../dataset/policy-metadata.ts';
import type { ObserveMode, RewardMode } from '../sim/perception.ts';
import type { SceneMode } from '../sim/world.ts';

/**
 * What the simulated bench gives besides the arm (issue "From a real arm's recording…"): the same
 * scene every episode or a new one, the task's poses published as a perception node would (with
 * noise and latency) or only the arm, and returns from the task's dense reward or from the label a
 * person would give at each episode's end.
 */
export interface SimBench {
  /** Default 'random'. */
  readonly scene?: SceneMode;
  /** Default 'poses'. */
  readonly observe?: ObserveMode;
  /** Perceived poses: noise (m, per axis) and latency (ms). Default 0 and 0. */
  readonly poseNoiseM?: number;
  readonly poseLatencyMs?: number;
  /** Default 'sim'. */
  readonly rewards?: RewardMode;
}

/** The bench's settings as recording metadata (strings), so training and evaluation can reproduce them. */
export function benchMetadata(b: SimBench): Record<string, string> {
  return {
    scene: b.scene ?? 'random',
    observe: b.observe ?? 'poses',
    pose_noise_m: String(b.poseNoiseM ?? 0),
    pose_latency_ms: String(b.poseLatencyMs ?? 0),
    rewards: b.rewards ?? 'sim',
  };
}


/** What the bench must give a policy with this observation besides the arm: the poses, or nothing. */
export function observeModeOf(observation: readonly { readonly name: string }[]): ObserveMode {
  return observation.some((f) => f.name !== 'follower.position') ? 'poses' : 'arm';
}

/**
 * The bench a model was trained on (its metadata; a dataset's recorded bench has the same fields),
 * each setting overridden by what is asked: its scene, what it observes, its perception's noise and
 * latency, where its returns came from.
 */
export function modelBench(meta: { readonly observation: readonly { readonly name: string }[]; readonly sim?: PolicyMetadata['sim'] }, asked: SimBench = {}): SimBench {
  return {
    scene: asked.scene ?? (meta.sim?.scene === 'fixed' ? 'fixed' : 'random'),
    observe: asked.observe ?? observeModeOf(meta.observation),
    poseNoiseM: asked.poseNoiseM ?? meta.sim?.poseNoiseM ?? 0,
    poseLatencyMs: asked.poseLatencyMs ?? meta.sim?.poseLatencyMs ?? 0,
    rewards: asked.rewards ?? (meta.sim?.rewards === 'labels' ? 'labels' : 'sim'),
  };
}

/** The bench as people read it: `random scene, observing the poses (0.005 m noise, 50 ms latency)`. */
export function describeBench(b: SimBench): string {
  const noisy = b.poseNoiseM || b.poseLatencyMs;
  return `${b.scene ?? 'random'} scene, observing ${b.observe === 'arm' ? 'the arm only' : `the poses${noisy ? ` (${b.poseNoiseM ?? 0} m noise, ${b.poseLatencyMs ?? 0} ms latency)` : ''}`}`;
}
