/**
 * The demo's replay stage: an episode of the demo's recording is played on a fresh simulated
 * follower over a real pty (socat; else the in-process binding, and it says so), after a slow move
 * to the episode's start pose, through the SafetyFilter, with the original timing. The reproduced
 * follower trajectory is compared with the recorded one (tracking error per joint). Then the ROS 2
 * side: with ROS 2 sourced the episode is published to its topics (`replay --to ros`); without it,
 * the stage says so (RosUnavailableError's message) and shows what the bridge's mapping layer makes
 * of the recorded states (/joint_states messages, QoS, services), all of which runs without ROS.
 */
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Arm } from '../arm/arm.ts';
import { loadCalibration } from '../arm/calibration.ts';
import { parkArm } from '../arm/park.ts';
import { armProfile } from '../arm/profiles.ts';
import { describeSafety, type SafetySummary } from '../arm/safety-filter.ts';
import { episodesOf } from '../record/episodes.ts';
import { decodeMessage, readRecording } from '../record/read.ts';
import { replayToArmInWorker } from '../replay/to-arm-worker.ts';
import { replayToArm, type ReplayToArmResult, type TrackingError } from '../replay/to-arm.ts';
import { replayToRos } from '../replay/to-ros.ts';
import { RosUnavailableError } from '../ros/errors.ts';
import { jointStateMessage, QOS, SERVICES, TOPICS } from '../ros/mapping.ts';
import { openRosGraph } from '../ros/rclnodejs.ts';
import { simCalibrationPath } from './paths.ts';
import { openSimPort } from './sim-port.ts';
import { table } from './table.ts';

export interface ReplayDemoOptions {
  readonly recordingFile: string;
  readonly runDir: string;
  readonly out: NodeJS.WritableStream;
  /** Half-speed would show the speed scaling; fast mode plays at the original speed. */
  readonly fast?: boolean;
  readonly signal?: AbortSignal;
  /** Episode to play; default the first kept one. */
  readonly episode?: number;
}

export interface ReplayDemoResult {
  readonly transport: 'pty' | 'in-process';
  readonly episode: number;
  readonly speed: number;
  readonly sent: number;
  readonly seconds: number;
  readonly tracking: TrackingError | undefined;
  readonly safety: SafetySummary;
  /** ROS 2: published to topics when sourced, else the reason it is not. */
  readonly ros: { readonly sourced: boolean; readonly detail: string; readonly jointStateMessages: number; readonly published: number };
  readonly summaryFile: string;
  /** The replayed episode's recorded and reproduced follower positions (for plots; not in the summary file). */
  readonly trajectory: ReplayToArmResult['trajectory'];
}

export async function runReplayDemo(o: ReplayDemoOptions): Promise<ReplayDemoResult> {
  const out = o.out;
  const rec = await readRecording(o.recordingFile);
  const kept = episodesOf(rec).filter((e) => !e.discarded && e.endNs !== undefined);
  const episode = o.episode ?? kept[0]?.index ?? 0;
  const speed = o.fast ? 1 : 0.5;
  const calibration = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const sim = await openSimPort('so101', 'follower', 'pty');
  let result;
  try {
    out.write(`episode ${episode} of ${o.recordingFile} on a fresh simulated follower ${sim.transport === 'pty' ? `over a real pty (${sim.path})` : 'over the in-process binding (socat not found, so no pty)'} at speed ×${speed}\n`);
    if (sim.transport === 'pty' && process.platform === 'linux') {
      // The replay loop in the loop worker, which opens the pty and parks the follower afterwards.
      result = await replayToArmInWorker({ file: o.recordingFile, episode, speed, arm: { kind: 'so101', calibration, path: sim.path, busTimeoutMs: 100 }, signal: o.signal, park: { speed: 1.5, timeoutS: 5 } });
    } else {
      const arm = await Arm.open({ profile: armProfile('so101', 'follower'), calibration, path: sim.path, binding: sim.binding, bus: { timeoutMs: sim.transport === 'pty' ? 100 : 20 } });
      try {
        result = await replayToArm({ file: o.recordingFile, episode, arm, calibration, speed, signal: o.signal });
        await parkArm(arm, { speed: 1.5, timeoutS: 5 }).catch(() => undefined);
      } finally {
        await arm.close();
      }
    }
  } finally {
    await sim.close();
  }
  const t = result.tracking;
  out.write(`${result.sent} recorded actions replayed in ${result.seconds.toFixed(2)} s; safety: ${describeSafety(result.safety)}\n`);
  if (t) {
    out.write(table(['joint', 'mean |reproduced − recorded|', 'max'], t.perJoint.map((j) => [j.joint, j.meanAbs.toFixed(4), j.maxAbs.toFixed(4)])));
    out.write(`tracking error over ${t.samples} samples: mean ${t.meanAbsRad.toFixed(4)} rad, p95 ${t.p95AbsRad.toFixed(4)} rad, max ${t.maxAbsRad.toFixed(4)} rad (revolute joints; gripper in 0…1)\n`);
  } else out.write('the recording has no follower states in this episode: no tracking error\n');

  // ROS 2: publish when sourced, else show the mapping that would be published.
  const names = (rec.metadata.get('armbridge')?.get('joint_names') ?? '').split(',').filter(Boolean);
  const ep = kept.find((e) => e.index === episode);
  const states = rec.messages.filter((m) => m.topic === '/follower/joint_states' && ep && m.logTimeNs >= ep.startNs && m.logTimeNs <= ep.endNs!);
  const mapped = states.map((m) => jointStateMessage(names, decodeMessage<{ position: ArrayLike<number> }>(rec, m).position, m.logTimeNs));
  let ros: ReplayDemoResult['ros'];
  try {
    const graph = await openRosGraph('armbridge_demo');
    try {
      const r = await replayToRos({ file: o.recordingFile, graph, episode, speed: 4, signal: o.signal });
      ros = { sourced: true, detail: `ROS 2 ${process.env.ROS_DISTRO} sourced: published ${r.published} messages on ${Object.keys(r.perTopic).length} topics`, jointStateMessages: mapped.length, published: r.published };
    } finally {
      await graph.close();
    }
  } catch (e) {
    if (!(e instanceof RosUnavailableError)) throw e;
    ros = { sourced: false, detail: e.message, jointStateMessages: mapped.length, published: 0 };
  }
  out.write(`${ros.sourced ? ros.detail : `ROS 2: ${ros.detail}`}\n`);
  if (!ros.sourced) {
    const first = mapped[0];
    out.write(
      `without ROS, the bridge's mapping layer still runs: this episode's ${mapped.length} follower states become sensor_msgs/msg/JointState on ${TOPICS.jointStates} ` +
        `(QoS ${QOS.state.reliability}, ${QOS.state.history} ${QOS.state.depth}), e.g. stamp ${first ? `${first.header.stamp.sec}.${String(first.header.stamp.nanosec).padStart(9, '0')}` : '-'}, ` +
        `${first ? first.name.map((n, i) => `${n} ${first.position[i]!.toFixed(3)}`).join(', ') : ''}\n` +
        `commands in on ${TOPICS.forwardCommands} (std_msgs/msg/Float64MultiArray) and ${TOPICS.trajectory} (trajectory_msgs/msg/JointTrajectory), QoS ${QOS.command.reliability}; services ${Object.values(SERVICES).join(', ')}\n`,
    );
  }
  const summaryFile = join(o.runDir, 'replay-arm.json');
  const res = { transport: sim.transport, episode, speed, sent: result.sent, seconds: result.seconds, tracking: t, safety: result.safety, ros, summaryFile };
  await writeFile(summaryFile, JSON.stringify(res, null, 2));
  return { ...res, trajectory: result.trajectory };
}
