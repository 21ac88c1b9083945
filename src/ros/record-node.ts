/**
 * `armbridge ros record`: records any ROS 2 arm from its topics into the standard recording layout
 * (the one `armbridge record` writes), so `inspect`, `train` and `replay` work on it unchanged:
 *
 *   follower   sensor_msgs/msg/JointState           → /follower/joint_states
 *   leader     sensor_msgs/msg/JointState           → /leader/joint_states
 *   action     std_msgs/msg/Float64MultiArray       → /action (JointState, in the follower's joint order)
 *   trajectory trajectory_msgs/msg/JointTrajectory  → /action (first point, by joint name)
 *   target     geometry_msgs/msg/PoseStamped        → /target_pose
 *
 * A fixed-rate recorder: every cycle logs the latest message of each role at one measured time
 * (the dataset aligns features by time), only while an episode runs and only when the follower's
 * state is fresh. Episodes are started, stopped and discarded over Trigger services under
 * /armbridge_record (or one episode from start to end with `autoEpisode`). The joint names come
 * from the follower's JointState and are written into the recording's metadata when it closes.
 */
import { RateLoop } from '../arm/rate-loop.ts';
import { ArmbridgeError } from '../errors.ts';
import { ARMBRIDGE_VERSION, Recorder, wallNs, type RecorderStats, type Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import { EpisodeControl } from './episode-services.ts';
import type { RosGraph } from './graph.ts';
import { commandFromMessage, positionFromPoseStamped, positionsFromJointState, QOS, RECORD_SERVICES, TOPICS, TYPES } from './mapping.ts';

export type RecordRole = 'follower' | 'leader' | 'action' | 'trajectory' | 'target';

export interface RecordTopic {
  readonly topic: string;
  readonly role: RecordRole;
}

export class RecordTopicsError extends ArmbridgeError {
  constructor(detail: string) {
    super('ROS_RECORD_TOPICS', `--topics: ${detail}; give topic[:role] entries separated by commas, roles follower, leader, action, trajectory, target (e.g. /joint_states:follower,/forward_position_controller/commands:action)`);
  }
}

const ROLE_TYPES: Readonly<Record<RecordRole, string>> = {
  follower: TYPES.jointState,
  leader: TYPES.jointState,
  action: TYPES.float64MultiArray,
  trajectory: TYPES.jointTrajectory,
  target: TYPES.poseStamped,
};

const DEFAULT_ROLES: Readonly<Record<string, RecordRole>> = {
  [TOPICS.jointStates]: 'follower',
  [TOPICS.leaderJointStates]: 'leader',
  [TOPICS.forwardCommands]: 'action',
  [TOPICS.trajectory]: 'trajectory',
  [TOPICS.targetPose]: 'target',
};

/** "/joint_states,/arm/commands:action" → topics with roles (well-known names need no role). */
export function parseRecordTopics(text: string): RecordTopic[] {
  const out: RecordTopic[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const k = part.lastIndexOf(':');
    const topic = k > 0 ? part.slice(0, k) : part;
    const role = (k > 0 ? part.slice(k + 1) : DEFAULT_ROLES[topic]) as RecordRole | undefined;
    if (!topic.startsWith('/')) throw new RecordTopicsError(`"${topic}" is not an absolute topic name`);
    if (!role) throw new RecordTopicsError(`no role for ${topic}`);
    if (!(role in ROLE_TYPES)) throw new RecordTopicsError(`unknown role "${role}" for ${topic}`);
    out.push({ topic, role });
  }
  const roles = out.map((t) => t.role);
  if (!roles.includes('follower')) throw new RecordTopicsError('no follower state topic (sensor_msgs/msg/JointState)');
  if (new Set(roles.map((r) => (r === 'trajectory' ? 'action' : r))).size !== roles.length) throw new RecordTopicsError('each role may be given once (action and trajectory are both the action)');
  return out;
}

export interface RosRecordOptions {
  readonly graph: RosGraph;
  readonly out: string;
  readonly overwrite?: boolean;
  readonly topics: readonly RecordTopic[];
  readonly rateHz: number;
  readonly durationS?: number;
  readonly signal?: AbortSignal;
  /** Record one episode from start to end without the services. Default false. */
  readonly autoEpisode?: boolean;
  /** A follower state older than this is not recorded. Default 3 periods + 50 ms. */
  readonly staleMs?: number;
  /** Extra metadata (e.g. arm: so101 when it is one). */
  readonly metadata?: Record<string, string>;
  readonly onEvent?: (line: string) => void;
}

export interface RosRecordResult {
  readonly path: string;
  readonly samples: number;
  readonly staleCycles: number;
  readonly received: Record<string, number>;
  readonly refused: number;
  readonly lastRefusal: string | undefined;
  readonly episodes: { readonly kept: number; readonly discarded: number };
  readonly jointNames: readonly string[];
  readonly recorder: RecorderStats;
}

export async function runRosRecord(o: RosRecordOptions): Promise<RosRecordResult> {
  const onEvent = o.onEvent ?? (() => undefined);
  const meta: Record<string, string> = {
    arm: 'ros',
    rate_hz: String(o.rateHz),
    software: `armbridge ${ARMBRIDGE_VERSION}`,
    operator: 'ros',
    source_topics: o.topics.map((t) => `${t.topic}:${t.role}`).join(','),
    ...o.metadata,
  };
  const recorder = await Recorder.create({ path: o.out, overwrite: o.overwrite }, meta);
  const received: Record<string, number> = {};
  let refused = 0;
  let lastRefusal: string | undefined;
  let names: string[] = [];
  const latest: Partial<Record<'follower' | 'leader' | 'target', { value: Float64Array; atMs: number }>> & { action?: { msg: unknown; kind: 'forward' | 'trajectory'; topic: string } } = {};
  try {
    const episodes = new EpisodeControl(recorder);
    await episodes.attach(o.graph, (l) => onEvent(`${l}\n`), RECORD_SERVICES);
    const topics: Partial<Record<'follower' | 'leader' | 'action' | 'target', Topic>> = {};
    for (const t of o.topics) {
      received[t.topic] = 0;
      if (t.role === 'target') topics.target = await recorder.topic('/target_pose', 'geometry_msgs/msg/PoseStamped');
      else if (t.role === 'action' || t.role === 'trajectory') topics.action = await recorder.topic('/action', 'sensor_msgs/msg/JointState');
      else topics[t.role] = await recorder.topic(`/${t.role}/joint_states`, 'sensor_msgs/msg/JointState');
      o.graph.subscribe(t.topic, ROLE_TYPES[t.role], t.role === 'follower' || t.role === 'leader' ? QOS.state : QOS.command, (msg) => {
        try {
          if (t.role === 'action' || t.role === 'trajectory') latest.action = { msg, kind: t.role === 'action' ? 'forward' : 'trajectory', topic: t.topic };
          else if (t.role === 'target') latest.target = { value: Float64Array.from(positionFromPoseStamped(msg, t.topic)), atMs: performance.now() };
          else {
            const js = positionsFromJointState(msg, t.topic, t.role === 'follower' && names.length === 0 ? undefined : names);
            if (t.role === 'follower' && names.length === 0) names = js.names.length ? js.names : js.positions.length ? Array.from(js.positions, (_v, i) => `joint${i + 1}`) : [];
            latest[t.role] = { value: js.positions, atMs: performance.now() };
          }
          received[t.topic]!++;
        } catch (e) {
          refused++;
          lastRefusal = (e as Error).message;
        }
      });
    }
    if (o.autoEpisode) onEvent(`${episodes.start().message}\n`);
    const loop = new RateLoop(o.rateHz);
    const staleMs = o.staleMs ?? 3 * loop.periodMs + 50;
    const t0 = performance.now();
    let samples = 0;
    let staleCycles = 0;
    const js = (t: bigint, frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: names, position: Float64Array.from(p), velocity: [], effort: [] });
    while (!o.signal?.aborted && (o.durationS === undefined || performance.now() - t0 < o.durationS * 1000)) {
      await loop.next();
      if (!episodes.recording) continue;
      const now = performance.now();
      const f = latest.follower;
      if (!f || now - f.atMs > staleMs) {
        staleCycles++;
        continue;
      }
      const t = wallNs(now);
      recorder.log(topics.follower!, js(t, 'follower', f.value), t);
      if (topics.leader && latest.leader && now - latest.leader.atMs <= staleMs) recorder.log(topics.leader, js(t, 'leader', latest.leader.value), t);
      if (topics.action && latest.action) {
        try {
          recorder.log(topics.action, js(t, 'action', commandFromMessage(latest.action.kind, latest.action.msg, names, latest.action.topic)), t);
        } catch (e) {
          refused++;
          lastRefusal = (e as Error).message;
          latest.action = undefined;
        }
      }
      if (topics.target && latest.target) {
        const p = latest.target.value;
        recorder.log(topics.target, { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x: p[0]!, y: p[1]!, z: p[2]! }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }, t);
      }
      samples++;
    }
    if (episodes.recording) episodes.stop('stop');
    // The joint names are known now: the recording's metadata says them (a later record replaces the first).
    await recorder.metadata('armbridge', { ...meta, joint_names: names.join(',') });
    return { path: o.out, samples, staleCycles, received, refused, lastRefusal, episodes: { kept: episodes.kept, discarded: episodes.discarded }, jointNames: names, recorder: recorder.stats };
  } finally {
    await recorder.close();
  }
}
