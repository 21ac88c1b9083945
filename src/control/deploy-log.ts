/**
 * The deployment run log: the recording topics (so a run can be inspected, replayed and used as data
 * for iterated RWR) plus what only a policy run has: the policy's raw action before the safety
 * filter, the inference latency, and safety status changes. Used by the in-thread loop directly and
 * by the worker host for cycles that arrive through the shared ring.
 */
import { featureSpec } from '../dataset/features.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import { wallNs, type Recorder, type Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';

export interface LoggedCycle {
  /** Wall-clock time of the cycle start, ns since the epoch. */
  readonly stampNs: bigint;
  /** Joint positions read this cycle, or null when the read failed. */
  readonly state: ArrayLike<number> | null;
  /** The command written (after the safety filter). */
  readonly command: ArrayLike<number>;
  /** The policy's action before the filter, or null when no inference ran. */
  readonly raw: ArrayLike<number> | null;
  readonly inferenceUs: number;
  readonly status: string;
  /** The observation features after the joints (e.g. the target), as the policy saw them. */
  readonly extra?: ArrayLike<number> | null;
  readonly reward?: number;
  readonly success?: boolean;
}

interface Topics {
  /** Pose features among the extra observations (target, object, goal): their topic and offset. */
  readonly poses: readonly { readonly topic: Topic; readonly at: number }[];
  readonly reward: Topic;
  readonly success: Topic;
  readonly episode: Topic;
  readonly follower: Topic;
  readonly action: Topic;
  readonly raw: Topic;
  readonly inference: Topic;
  readonly safety: Topic;
}

export class DeployLog {
  readonly #rec: Recorder;
  readonly #names: string[];
  readonly #topics: Topics;
  #lastStatus = 'ok';

  private constructor(rec: Recorder, names: readonly string[], topics: Topics) {
    this.#rec = rec;
    this.#names = [...names];
    this.#topics = topics;
  }

  /**
   * `extraLayout`: the observation features after the joints. Pose features among them
   * (`target.position`, `object.position`, `goal.position`) are logged on their topics (/target_pose,
   * /object_pose, /goal_pose) as recordings do, so the run loads as a dataset.
   */
  static async open(rec: Recorder, names: readonly string[], extraLayout: readonly { readonly name: string; readonly size: number }[] = []): Promise<DeployLog> {
    const poses: { topic: Topic; at: number }[] = [];
    let off = 0;
    for (const f of extraLayout) {
      const spec = featureSpec(f.name);
      if (spec?.kind === 'pose_position' && f.size === 3) poses.push({ topic: await rec.topic(spec.topic, 'geometry_msgs/msg/PoseStamped'), at: off });
      off += f.size;
    }
    return new DeployLog(rec, names, {
      poses,
      reward: await rec.topic('/reward', 'std_msgs/msg/Float64'),
      success: await rec.topic('/task/success', 'std_msgs/msg/Bool'),
      episode: await rec.topic('/episode', 'std_msgs/msg/String'),
      follower: await rec.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
      action: await rec.topic('/action', 'sensor_msgs/msg/JointState'),
      raw: await rec.topic('/policy/action', 'sensor_msgs/msg/JointState'),
      inference: await rec.topic('/control/inference_us', 'std_msgs/msg/Float64'),
      safety: await rec.topic('/safety', 'std_msgs/msg/String'),
    });
  }

  /** Wall-clock ns of a performance.now() reading of this thread. */
  static stamp(perfMs: number): bigint {
    return wallNs(perfMs);
  }

  log(c: LoggedCycle): void {
    const t = c.stampNs;
    const js = (frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: this.#names, position: Float64Array.from(p), velocity: [], effort: [] });
    if (c.state) this.#rec.log(this.#topics.follower, js('follower', c.state), t);
    this.#rec.log(this.#topics.action, js('action', c.command), t);
    if (c.raw) {
      this.#rec.log(this.#topics.raw, js('policy', c.raw), t);
      this.#rec.log(this.#topics.inference, { data: c.inferenceUs }, t);
    }
    if (c.extra) {
      for (const { topic, at: o } of this.#topics.poses) {
        const position = { x: c.extra[o]!, y: c.extra[o + 1]!, z: c.extra[o + 2]! };
        this.#rec.log(topic, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
      }
    }
    if (c.reward !== undefined && !Number.isNaN(c.reward)) this.#rec.log(this.#topics.reward, { data: c.reward }, t);
    if (c.success !== undefined) this.#rec.log(this.#topics.success, { data: c.success }, t);
    if (c.status !== this.#lastStatus) this.#rec.log(this.#topics.safety, { data: JSON.stringify({ status: c.status }) }, t);
    this.#lastStatus = c.status;
  }

  episodeEvents(stampNs: bigint, events: readonly EpisodeEvent[]): void {
    for (const e of events) this.#rec.log(this.#topics.episode, { data: JSON.stringify(e) }, stampNs);
  }
}
