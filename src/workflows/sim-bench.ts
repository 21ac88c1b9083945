/** The simulated bench's settings (light: no onnxruntime), shared by recording, evaluation and training. */
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

