/**
 * What a recording session writes per cycle and per episode event, on the thread that owns the
 * Recorder (the main thread when the loop runs in its worker): leader and follower states, the
 * action sent (after the SafetyFilter), the task topics, episode events, and the labels asked after
 * each episode. Queues only (Recorder.log): encoding and disk writes happen in the recorder's flush.
 */
import type { EpisodeEvent } from './episodes.ts';
import type { EndedEpisode } from './episode-control.ts';
import { wallNs, type Recorder, type Topic } from './recorder.ts';
import { rosTime, type JointStateMsg } from './ros-schemas.ts';

export interface TaskSample {
  readonly targetPosition?: ArrayLike<number>;
  /** Other poses the task publishes (e.g. /object_pose, /goal_pose), on topics declared at `RecordLog.open`. */
  readonly poses?: readonly { readonly topic: string; readonly position: ArrayLike<number> }[];
  readonly reward?: number;
  readonly success?: boolean;
}

export interface EpisodeLabel {
  readonly outcome: 'success' | 'failure' | 'score';
  readonly score?: number;
}

/** Asks for an ended episode's label; `done` aborts when the session ends (a pending label then resolves to undefined). */
export type LabelEpisode = (episode: EndedEpisode, done: AbortSignal) => Promise<EpisodeLabel | undefined>;

interface RecordTopics {
  /** Absent in a states-only recording (kinesthetic teaching: no leader, nothing commanded). */
  readonly leader: Topic | undefined;
  readonly follower: Topic;
  readonly action: Topic | undefined;
  readonly episode: Topic;
  readonly target: Topic | undefined;
  readonly reward: Topic | undefined;
  readonly success: Topic | undefined;
  readonly poses: ReadonlyMap<string, Topic>;
}

export class RecordLog {
  readonly #recorder: Recorder;
  readonly #names: string[];
  readonly #topics: RecordTopics;
  readonly #labels: Promise<void>[] = [];
  readonly #labelsDone = new AbortController();
  readonly #label: LabelEpisode | undefined;

  private constructor(recorder: Recorder, names: readonly string[], topics: RecordTopics, label: LabelEpisode | undefined) {
    this.#recorder = recorder;
    this.#names = [...names];
    this.#topics = topics;
    this.#label = label;
  }

  /**
   * Registers the topics (before the loop starts); `task`: also /reward, /task/success and (unless
   * `target` says otherwise) /target_pose;
   * `poseTopics`: the task's other poses (geometry_msgs/msg/PoseStamped); `statesOnly`: no
   * /leader/joint_states and no /action (kinesthetic teaching; train derives the labels).
   */
  static async open(recorder: Recorder, names: readonly string[], options: { task: boolean; target?: boolean; poseTopics?: readonly string[]; label?: LabelEpisode; statesOnly?: boolean }): Promise<RecordLog> {
    const poses = new Map<string, Topic>();
    for (const name of options.poseTopics ?? []) poses.set(name, await recorder.topic(name, 'geometry_msgs/msg/PoseStamped'));
    const topics = {
      leader: options.statesOnly ? undefined : await recorder.topic('/leader/joint_states', 'sensor_msgs/msg/JointState'),
      follower: await recorder.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
      action: options.statesOnly ? undefined : await recorder.topic('/action', 'sensor_msgs/msg/JointState'),
      episode: await recorder.topic('/episode', 'std_msgs/msg/String'),
      target: (options.target ?? options.task) ? await recorder.topic('/target_pose', 'geometry_msgs/msg/PoseStamped') : undefined,
      reward: options.task ? await recorder.topic('/reward', 'std_msgs/msg/Float64') : undefined,
      success: options.task ? await recorder.topic('/task/success', 'std_msgs/msg/Bool') : undefined,
      poses,
    };
    return new RecordLog(recorder, names, topics, options.label);
  }

  #joint(t: bigint, frame: string, position: ArrayLike<number>): JointStateMsg {
    return { header: { stamp: rosTime(t), frame_id: frame }, name: this.#names, position: Float64Array.from(position), velocity: [], effort: [] };
  }

  /** One recorded cycle at wall time `t` (ns). Arrays are copied. */
  cycle(t: bigint, leader: ArrayLike<number> | null, follower: ArrayLike<number> | null, command: ArrayLike<number>, task: TaskSample | undefined): void {
    const r = this.#recorder;
    const tp = this.#topics;
    if (leader && tp.leader) r.log(tp.leader, this.#joint(t, 'leader', leader), t);
    if (follower) r.log(tp.follower, this.#joint(t, 'follower', follower), t);
    if (tp.action) r.log(tp.action, this.#joint(t, 'action', command), t);
    if (!task) return;
    const p = task.targetPosition;
    if (p && tp.target) r.log(tp.target, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: p[0]!, y: p[1]!, z: p[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
    for (const q of task.poses ?? []) {
      const topic = tp.poses.get(q.topic);
      const v = q.position;
      if (topic) r.log(topic, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: v[0]!, y: v[1]!, z: v[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
    }
    if (task.reward !== undefined && tp.reward) r.log(tp.reward, { data: task.reward }, t);
    if (task.success !== undefined && tp.success) r.log(tp.success, { data: task.success }, t);
  }

  event(t: bigint, e: EpisodeEvent): void {
    this.#recorder.log(this.#topics.episode, { data: JSON.stringify(e) }, t);
  }

  /** Asks for the label of an episode that ended; the answer is logged when it comes. */
  askLabel(e: EndedEpisode): void {
    if (!this.#label) return;
    this.#labels.push(
      this.#label(e, this.#labelsDone.signal).then((l) => {
        if (l) this.event(wallNs(performance.now()), { event: 'label', episode: e.index, outcome: l.outcome, score: l.score });
      }),
    );
  }

  /** The session is over: pending labels resolve (unlabelled) now; waits for those already answered to be logged. */
  async finish(): Promise<void> {
    this.#labelsDone.abort();
    await Promise.all(this.#labels);
  }
}
