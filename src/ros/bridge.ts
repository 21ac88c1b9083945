/**
 * `armbridge ros bridge`: a follower arm (and optionally a leader) as a ROS 2 node.
 *
 *   out:  /joint_states (follower) and /leader/joint_states, sensor_msgs/msg/JointState, every cycle
 *   in:   /forward_position_controller/commands (std_msgs/msg/Float64MultiArray, one value per joint)
 *         /joint_trajectory_controller/joint_trajectory (trajectory_msgs/msg/JointTrajectory, first point)
 *   srv:  /armbridge/episode/{start,stop,discard} (record episodes into --out), /armbridge/estop
 *
 * The arm runs in the shared control loop (src/arm/control-loop.ts): every command, from ROS or
 * from the leader, passes the SafetyFilter (limits, speed limit, finite values, watchdog). The last
 * ROS command stays the target (as forward_command_controller holds it); with a leader, the leader
 * drives unless a ROS command arrived within `rosTakeoverMs`. A malformed command is refused and
 * counted, never thrown into the loop. E-stop (service or signal): the follower holds, torque is cut
 * on every servo, and the bridge ends with SafetyStopError; restart it to resume.
 */
import type { Arm } from '../arm/arm.ts';
import { runControlLoop, type ControlLoopResult } from '../arm/control-loop.ts';
import { wallNs, type Recorder, type Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import { EpisodeControl } from './episode-services.ts';
import type { RosGraph } from './graph.ts';
import { commandFromMessage, jointStateMessage, QOS, SERVICES, TOPICS, TYPES } from './mapping.ts';

export interface RosBridgeOptions {
  readonly graph: RosGraph;
  readonly follower: Arm;
  readonly leader?: Arm;
  readonly rateHz: number;
  readonly durationS?: number;
  /** Ends the bridge normally. */
  readonly signal?: AbortSignal;
  /** Emergency stop (SIGINT): hold, torque off, SafetyStopError. */
  readonly estop?: AbortSignal;
  /** Follower speed limit, rad/s. Default 2. */
  readonly maxSpeed?: number;
  /** With a leader: a ROS command drives the follower for this long after it arrives. Default 1000. */
  readonly rosTakeoverMs?: number;
  /** Episodes started over the services are recorded here (the caller writes the metadata and closes it). */
  readonly recorder?: Recorder;
  readonly commandTopic?: string;
  readonly trajectoryTopic?: string;
  readonly readTimeoutMs?: number;
  /** Watchdog: hold after, and cut torque after, this long without a fresh follower read (defaults of the control loop). */
  readonly holdAfterMs?: number;
  readonly torqueOffAfterMs?: number;
  /** Service calls and refused commands, one line each. */
  readonly onEvent?: (line: string) => void;
}

export interface RosBridgeResult extends ControlLoopResult {
  readonly published: number;
  readonly commands: { readonly forward: number; readonly trajectory: number; readonly refused: number; readonly lastRefusal: string | undefined };
  readonly episodes: { readonly kept: number; readonly discarded: number };
}

export async function runRosBridge(o: RosBridgeOptions): Promise<RosBridgeResult> {
  const { graph, follower, leader } = o;
  const names = [...follower.names];
  const n = names.length;
  const onEvent = o.onEvent ?? (() => undefined);
  const readCall = { timeoutMs: o.readTimeoutMs ?? Math.max(10, 2000 / o.rateHz), retries: 0 };
  const statePub = graph.publisher(TOPICS.jointStates, TYPES.jointState, QOS.state);
  const leaderPub = leader ? graph.publisher(TOPICS.leaderJointStates, TYPES.jointState, QOS.state) : undefined;

  const commands = { forward: 0, trajectory: 0, refused: 0, lastRefusal: undefined as string | undefined };
  let rosCommand: Float64Array | undefined;
  let rosAtMs = -Infinity;
  const accept = (kind: 'forward' | 'trajectory', topic: string) => (msg: unknown) => {
    try {
      rosCommand = commandFromMessage(kind, msg, names, topic);
      rosAtMs = performance.now();
      commands[kind]++;
    } catch (e) {
      commands.refused++;
      commands.lastRefusal = (e as Error).message;
      onEvent(`refused: ${commands.lastRefusal}\n`);
    }
  };
  const commandTopic = o.commandTopic ?? TOPICS.forwardCommands;
  const trajectoryTopic = o.trajectoryTopic ?? TOPICS.trajectory;
  graph.subscribe(commandTopic, TYPES.float64MultiArray, QOS.command, accept('forward', commandTopic));
  graph.subscribe(trajectoryTopic, TYPES.jointTrajectory, QOS.command, accept('trajectory', trajectoryTopic));

  const rec = o.recorder;
  const episodes = new EpisodeControl(rec);
  await episodes.attach(graph, (l) => onEvent(`${l}\n`));
  let estopRequested = false;
  graph.service(SERVICES.estop, TYPES.trigger, () => {
    estopRequested = true;
    onEvent('e-stop requested over ROS\n');
    return { success: true, message: 'e-stop: the follower holds and its torque is cut on every servo; restart the bridge to resume' };
  });
  const topics: Record<'leader' | 'follower' | 'action', Topic> | undefined = rec
    ? {
        leader: await rec.topic('/leader/joint_states', 'sensor_msgs/msg/JointState'),
        follower: await rec.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
        action: await rec.topic('/action', 'sensor_msgs/msg/JointState'),
      }
    : undefined;
  const js = (t: bigint, frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: names, position: Float64Array.from(p), velocity: [], effort: [] });

  const state = new Float64Array(n);
  const leaderState = new Float64Array(n);
  let fresh = false;
  let leaderFresh = false;
  let published = 0;
  const takeoverMs = o.rosTakeoverMs ?? 1000;
  try {
    const result = await runControlLoop({
      follower,
      rateHz: o.rateHz,
      maxStep: (o.maxSpeed ?? 2) / o.rateHz,
      durationS: o.durationS,
      signal: o.signal,
      estop: o.estop,
      holdAfterMs: o.holdAfterMs,
      torqueOffAfterMs: o.torqueOffAfterMs,
      control: () => (estopRequested ? 'estop' : undefined),
      sense: async () => {
        try {
          await follower.read(state, readCall);
          fresh = true;
        } catch (error) {
          fresh = false;
          return { fresh: false, desired: null, error };
        }
        if (leader) {
          try {
            await leader.read(leaderState, readCall);
            leaderFresh = true;
          } catch (error) {
            leaderFresh = false;
            // A ROS command can still drive the follower; without one, the watchdog decides.
            if (!rosCommand) return { fresh: false, desired: null, error };
          }
        }
        const rosActive = rosCommand !== undefined && (!leader || !leaderFresh || performance.now() - rosAtMs < takeoverMs);
        return { fresh: true, desired: rosActive ? rosCommand! : leader && leaderFresh ? leaderState : null };
      },
      after: (c) => {
        const t = graph.now();
        if (fresh) {
          statePub.publish(jointStateMessage(names, state, t));
          published++;
        }
        if (leaderPub && leaderFresh) leaderPub.publish(jointStateMessage(names, leaderState, t));
        if (rec && topics && episodes.recording) {
          const tw = wallNs(c.perfMs);
          if (leader && leaderFresh) rec.log(topics.leader, js(tw, 'leader', leaderState), tw);
          if (fresh) rec.log(topics.follower, js(tw, 'follower', state), tw);
          rec.log(topics.action, js(tw, 'action', c.command), tw);
        }
      },
    });
    if (episodes.recording) episodes.stop('stop');
    return { ...result, published, commands: { ...commands }, episodes: { kept: episodes.kept, discarded: episodes.discarded } };
  } catch (e) {
    if (episodes.recording) episodes.stop('stop');
    throw e;
  }
}
