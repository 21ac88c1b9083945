/**
 * The deployment run log: the recording topics (so a run can be inspected, replayed and used as data
 * for iterated RWR) plus what only a policy run has: the policy's raw action before the safety
 * filter, the inference latency, and safety status changes. Used by the in-thread loop directly and
 * by the worker host for cycles that arrive through the shared ring.
 */
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
}

interface Topics {
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

  static async open(rec: Recorder, names: readonly string[]): Promise<DeployLog> {
    return new DeployLog(rec, names, {
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
    if (c.status !== this.#lastStatus) this.#rec.log(this.#topics.safety, { data: JSON.stringify({ status: c.status }) }, t);
    this.#lastStatus = c.status;
  }

  /** A safety event with its cause (e.g. the stop that ended the run), logged at `stampNs`. */
  event(stampNs: bigint, event: Record<string, string | number | boolean>): void {
    this.#rec.log(this.#topics.safety, { data: JSON.stringify(event) }, stampNs);
  }
}
