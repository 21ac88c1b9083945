/**
 * `armbridge ros bridge`: a follower arm (and optionally a leader) as a ROS 2 node.
 *
 *   out:  /joint_states (follower) and /leader/joint_states, sensor_msgs/msg/JointState, every cycle
 *   in:   /forward_position_controller/commands (std_msgs/msg/Float64MultiArray, one value per joint)
 *         /joint_trajectory_controller/joint_trajectory (trajectory_msgs/msg/JointTrajectory, first point)
 *   srv:  /armbridge/episode/{start,stop,discard} (record episodes into --out), /armbridge/estop
 *
 * Two threads. The loop runs in the loop engine's worker (control/loop-host.ts, kind 'bridge'), which
 * opens and owns the follower's (and leader's) ports and runs the fixed-rate loop of
 * control/bridge-loop.ts: every command, from ROS or from the leader, passes the SafetyFilter
 * (limits, speed limit, finite values, watchdog). The last ROS command stays the target (as
 * forward_command_controller holds it); with a leader, the leader drives unless a ROS command arrived
 * within `rosTakeoverMs`. The ROS graph stays on this thread (rclnodejs cannot leave it): a malformed
 * command is refused and counted here, never reaches the loop; an accepted one goes into a shared
 * command slot (control/command-slot.ts, a seqlock, with its arrival time for the takeover rule).
 * The cycles come back through the engine's ring: this thread publishes the joint states from them
 * and records the ones inside an episode (by their own stamps, so a service call between two drains
 * splits the cycles exactly). E-stop (service or signal) goes through the engine's control word: the
 * follower holds, torque is cut on every servo, and the bridge ends with SafetyStopError; restart
 * it to resume.
 *
 * Fallback: with already-open arms (`follower: Arm`), the same loop runs on this thread, as deploy
 * and teleop do where a worker thread cannot open serial ports, or for the in-process simulator.
 */
import type { Arm } from '../arm/arm.ts';
import type { ControlLoopResult } from '../arm/control-loop.ts';
import type { ParkOptions } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { runBridgeLoop } from '../control/bridge-loop.ts';
import { CommandSlot, epochNowMs } from '../control/command-slot.ts';
import type { EnvironmentRef } from '../control/deploy-environment.ts';
import { epochNs, runLoopInWorker, type LoopSink, type ReadyInfo } from '../control/loop-host.ts';
import type { LoopArmSpec, LoopWorkerSpec } from '../control/loop-worker.ts';
import type { RealtimeStatus } from '../control/realtime-priority.ts';
import type { Recorder, Topic } from '../record/recorder.ts';
import { rosTime } from '../record/ros-schemas.ts';
import { EpisodeControl } from './episode-services.ts';
import type { RosGraph, RosPublisher } from './graph.ts';
import { commandFromMessage, jointStateMessage, QOS, SERVICES, TOPICS, TYPES } from './mapping.ts';

/** What an e-stop through the bridge's service is reported as (SafetyStopError, the run's summary). */
export const ROS_ESTOP_REASON = 'e-stop requested over ROS (/armbridge/estop)';

interface RosBridgeCommon {
  readonly graph: RosGraph;
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

/** The loop in the loop engine's worker, which opens the ports itself (a real arm, or a simulator behind a pty). */
export interface RosBridgeWorkerOptions extends RosBridgeCommon {
  readonly arm: LoopWorkerSpec['arm'];
  readonly leader?: LoopArmSpec;
  /** A module that supplies the ports inside the worker (tests, see control/deploy-environment.ts). */
  readonly environment?: EnvironmentRef;
  /** SCHED_FIFO priority to ask for; 0 or absent: normal priority. */
  readonly realtimePriority?: number;
  /** Park the follower after a normal end (default), or not (false). */
  readonly park?: ParkOptions | false;
  readonly onReady?: (info: ReadyInfo) => void;
}

/** The loop on this thread, on arms the caller opened (and closes, and parks). */
export interface RosBridgeThreadOptions extends RosBridgeCommon {
  readonly follower: Arm;
  readonly leader?: Arm;
}

export type RosBridgeOptions = RosBridgeWorkerOptions | RosBridgeThreadOptions;

export interface RosBridgeResult extends ControlLoopResult {
  readonly published: number;
  readonly commands: { readonly forward: number; readonly trajectory: number; readonly refused: number; readonly lastRefusal: string | undefined };
  readonly episodes: { readonly kept: number; readonly discarded: number };
  /** Where the loop ran. */
  readonly thread: 'worker' | 'main';
  /** worker: cycles the main thread could not drain in time (neither published nor recorded). */
  readonly logDropped: number;
  /** worker: whether the follower reached its rest pose after a normal end (undefined: not parked). */
  readonly parked: boolean | undefined;
  readonly realtime: RealtimeStatus | undefined;
}

/** One cycle as this thread sees it, from the ring or from the in-thread loop. */
interface BridgeSample {
  readonly epochMs: number;
  readonly follower: Float64Array | null;
  readonly leader: Float64Array | null;
  readonly command: Float64Array;
}

/** The graph side of the bridge: command subscriptions, services, publishers, the episode recording. */
class BridgeNode {
  readonly slot: CommandSlot;
  readonly commands = { forward: 0, trajectory: 0, refused: 0, lastRefusal: undefined as string | undefined };
  readonly episodes: EpisodeControl;
  readonly #estop = new AbortController();
  readonly #graph: RosGraph;
  readonly #names: readonly string[];
  readonly #statePub: RosPublisher;
  readonly #leaderPub: RosPublisher | undefined;
  readonly #recorder: Recorder | undefined;
  #topics: Record<'leader' | 'follower' | 'action', Topic> | undefined;
  /** Episode boundaries not yet passed by the cycles logged, in order (stamp, open after it). */
  readonly #transitions: { atNs: bigint; recording: boolean }[] = [];
  #recordingAtCursor = false;
  published = 0;

  private constructor(o: RosBridgeCommon, names: readonly string[], withLeader: boolean) {
    const { graph } = o;
    this.#graph = graph;
    this.#names = names;
    this.#recorder = o.recorder;
    this.slot = new CommandSlot(names.length);
    this.episodes = new EpisodeControl(o.recorder, (recording, atNs) => this.#transitions.push({ atNs, recording }));
    const onEvent = o.onEvent ?? (() => undefined);
    this.#statePub = graph.publisher(TOPICS.jointStates, TYPES.jointState, QOS.state);
    this.#leaderPub = withLeader ? graph.publisher(TOPICS.leaderJointStates, TYPES.jointState, QOS.state) : undefined;
    const accept = (kind: 'forward' | 'trajectory', topic: string) => (msg: unknown) => {
      let command: Float64Array;
      try {
        command = commandFromMessage(kind, msg, names, topic);
      } catch (e) {
        this.commands.refused++;
        this.commands.lastRefusal = (e as Error).message;
        onEvent(`refused: ${this.commands.lastRefusal}\n`);
        return;
      }
      this.slot.write(command, epochNowMs());
      this.commands[kind]++;
    };
    const commandTopic = o.commandTopic ?? TOPICS.forwardCommands;
    const trajectoryTopic = o.trajectoryTopic ?? TOPICS.trajectory;
    graph.subscribe(commandTopic, TYPES.float64MultiArray, QOS.command, accept('forward', commandTopic));
    graph.subscribe(trajectoryTopic, TYPES.jointTrajectory, QOS.command, accept('trajectory', trajectoryTopic));
    graph.service(SERVICES.estop, TYPES.trigger, () => {
      this.#estop.abort(ROS_ESTOP_REASON);
      onEvent('e-stop requested over ROS\n');
      return { success: true, message: 'e-stop: the follower holds and its torque is cut on every servo; restart the bridge to resume' };
    });
  }

  static async open(o: RosBridgeCommon, names: readonly string[], withLeader: boolean): Promise<BridgeNode> {
    const node = new BridgeNode(o, names, withLeader);
    await node.episodes.attach(o.graph, (l) => o.onEvent?.(`${l}\n`));
    return node;
  }

  /** The e-stop service was called. */
  get estop(): AbortSignal {
    return this.#estop.signal;
  }

  /** Registers the recording's topics (once, before the first cycle is logged). */
  async openRecording(): Promise<void> {
    const rec = this.#recorder;
    if (!rec || this.#topics) return;
    this.#topics = {
      leader: await rec.topic('/leader/joint_states', 'sensor_msgs/msg/JointState'),
      follower: await rec.topic('/follower/joint_states', 'sensor_msgs/msg/JointState'),
      action: await rec.topic('/action', 'sensor_msgs/msg/JointState'),
    };
  }

  /** Publishes a cycle's joint states, stamped on the node's clock at the time the cycle ran. */
  publish(c: BridgeSample): void {
    const ageNs = BigInt(Math.max(0, Math.round((epochNowMs() - c.epochMs) * 1e6)));
    const t = this.#graph.now() - ageNs;
    if (c.follower) {
      this.#statePub.publish(jointStateMessage(this.#names, c.follower, t));
      this.published++;
    }
    if (this.#leaderPub && c.leader) this.#leaderPub.publish(jointStateMessage(this.#names, c.leader, t));
  }

  /** Records a cycle if it ran inside an episode (cycles arrive in order of their stamps). */
  record(c: BridgeSample, stampNs: bigint): void {
    const rec = this.#recorder;
    const topics = this.#topics;
    if (!rec || !topics) return;
    while (this.#transitions.length > 0 && this.#transitions[0]!.atNs <= stampNs) this.#recordingAtCursor = this.#transitions.shift()!.recording;
    if (!this.#recordingAtCursor) return;
    const js = (frame: string, p: ArrayLike<number>) => ({ header: { stamp: rosTime(stampNs), frame_id: frame }, name: this.#names, position: Float64Array.from(p), velocity: [], effort: [] });
    if (c.leader) rec.log(topics.leader, js('leader', c.leader), stampNs);
    if (c.follower) rec.log(topics.follower, js('follower', c.follower), stampNs);
    rec.log(topics.action, js('action', c.command), stampNs);
  }

  /** After the last cycle was logged: an open episode ends. */
  close(): void {
    if (this.episodes.recording) this.episodes.stop('stop');
  }

  summary(): Pick<RosBridgeResult, 'published' | 'commands' | 'episodes'> {
    return { published: this.published, commands: { ...this.commands }, episodes: { kept: this.episodes.kept, discarded: this.episodes.discarded } };
  }
}

export async function runRosBridge(o: RosBridgeOptions): Promise<RosBridgeResult> {
  return 'follower' in o ? runInThread(o) : runInWorker(o);
}

async function runInWorker(o: RosBridgeWorkerOptions): Promise<RosBridgeResult> {
  const names = armProfile(o.arm.kind, 'follower').joints.map((j) => j.name);
  const node = await BridgeNode.open(o, names, o.leader !== undefined);
  const sink: LoopSink = {
    open: () => node.openRecording(),
    cycle: (r, stampNs) => node.record({ epochMs: r.epochMs, follower: r.state, leader: r.leader, command: r.command }, stampNs),
    events: () => undefined,
    finish: async () => undefined,
  };
  const estop = o.estop ? AbortSignal.any([o.estop, node.estop]) : node.estop;
  try {
    const r = await runLoopInWorker({
      kind: 'bridge',
      arm: o.arm,
      leader: o.leader,
      commandSlot: node.slot.buffer,
      takeoverMs: o.rosTakeoverMs,
      environment: o.environment,
      rateHz: o.rateHz,
      durationS: o.durationS,
      maxSpeed: o.maxSpeed ?? 2,
      readTimeoutMs: o.readTimeoutMs,
      holdAfterMs: o.holdAfterMs,
      torqueOffAfterMs: o.torqueOffAfterMs,
      realtimePriority: o.realtimePriority,
      park: o.park,
      signal: o.signal,
      estop,
      sink,
      onRecord: (r) => node.publish({ epochMs: r.epochMs, follower: r.state, leader: r.leader, command: r.command }),
      onReady: o.onReady,
      // Joint states leave within a few ms of their cycle (and at most every cycle).
      drainEveryMs: Math.max(2, Math.min(10, 500 / o.rateHz)),
    });
    const { cycles, seconds, achievedHz, overruns, latenessUs, latencyUs, safety, stop } = r;
    node.close();
    return { cycles, seconds, achievedHz, overruns, latenessUs, latencyUs, safety, stop, ...node.summary(), thread: 'worker', logDropped: r.logDropped, parked: r.parked, realtime: r.realtime };
  } catch (e) {
    node.close();
    throw e;
  }
}

async function runInThread(o: RosBridgeThreadOptions): Promise<RosBridgeResult> {
  const { follower, leader } = o;
  const node = await BridgeNode.open(o, [...follower.names], leader !== undefined);
  await node.openRecording();
  const estop = o.estop ? AbortSignal.any([o.estop, node.estop]) : node.estop;
  try {
    const result = await runBridgeLoop({
      follower,
      leader,
      slot: node.slot,
      takeoverMs: o.rosTakeoverMs,
      rateHz: o.rateHz,
      maxSpeed: o.maxSpeed,
      durationS: o.durationS,
      signal: o.signal,
      estop,
      readTimeoutMs: o.readTimeoutMs,
      holdAfterMs: o.holdAfterMs,
      torqueOffAfterMs: o.torqueOffAfterMs,
      onCycle: (c) => {
        const s = { epochMs: performance.timeOrigin + c.perfMs, follower: c.follower, leader: c.leader, command: c.command };
        node.publish(s);
        node.record(s, epochNs(s.epochMs));
      },
    });
    node.close();
    return { ...result, ...node.summary(), thread: 'main', logDropped: 0, parked: undefined, realtime: undefined };
  } catch (e) {
    node.close();
    throw e;
  }
}
