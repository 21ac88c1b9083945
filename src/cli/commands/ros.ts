import { z } from 'zod';
import { modelFile } from '../../control/model-path.ts';
import { Arm } from '../../arm/arm.ts';
import { checkCalibration, JointConverter, loadCalibration } from '../../arm/calibration.ts';
import { parkArm } from '../../arm/park.ts';
import { armProfile } from '../../arm/profiles.ts';
import { describeSafety } from '../../arm/safety-filter.ts';
import { FALLBACK_RATE_HZ, readPolicyMetadata } from '../../control/control-rate.ts';
import { ARMBRIDGE_VERSION, Recorder } from '../../record/recorder.ts';
import { runRosBridge } from '../../ros/bridge.ts';
import { runRosDeploy } from '../../ros/deploy-node.ts';
import { describePlan, planObservation, POSE_NAMES, type PoseSource, type PoseSources } from '../../ros/deploy-poses.ts';
import { SERVICES, TOPICS } from '../../ros/mapping.ts';
import { openRosGraph } from '../../ros/rclnodejs.ts';
import { parseRecordTopics, runRosRecord } from '../../ros/record-node.ts';
import { simCalibrationPath } from '../../workflows/paths.ts';
import { openSimPort, type SimPort } from '../../workflows/sim-port.ts';
import { UsageError, type Command } from '../command.ts';

/** Rate of the bridge and record loops when --rate is not given, Hz. */
const BRIDGE_RATE_HZ = 100;

const options = z.object({
  mode: z.enum(['bridge', 'record', 'deploy']).default('bridge').describe('bridge: the arm as a ROS 2 node (/joint_states, ros2_control command topics, episode and e-stop services); record: ROS topics of any arm into a recording; deploy: an ONNX policy with ROS topics as the arm'),
  arm: z.enum(['so101', 'koch']).default('so101').describe('Arm type (bridge: the arm driven; deploy: whose calibrated limits the safety filter uses)'),
  follower: z.string().optional().describe('Serial port of the follower (bridge)'),
  leader: z.string().optional().describe('Serial port of a leader arm that drives the follower when no ROS command does (bridge)'),
  followerCalibration: z.string().optional().describe('Follower calibration (default calibration/<arm>-follower.json; with --sim the shipped simulator file)'),
  leaderCalibration: z.string().optional().describe('Leader calibration (default calibration/<arm>-leader.json)'),
  sim: z.boolean().default(false).describe('Bridge a simulated follower (over a pty when socat is installed)'),
  rate: z.coerce.number().positive().max(1000).optional().describe(`Loop rate, Hz (bridge, record: default ${BRIDGE_RATE_HZ}; deploy: default the model's own rate, ${FALLBACK_RATE_HZ} for models that do not say; one the model cannot follow is refused unless --force)`),
  force: z.boolean().default(false).describe('deploy: run at --rate even when the model cannot follow it'),
  durationS: z.coerce.number().positive().optional().describe('Stop after this long, s (default: until Ctrl-C)'),
  out: z.string().optional().describe('Recording to write (bridge: episodes started over /armbridge/episode/start; record: required)'),
  overwrite: z.boolean().default(false).describe('Replace an existing recording'),
  topics: z.string().default(`${TOPICS.jointStates},${TOPICS.forwardCommands}`).describe('record: topic[:role] list; roles follower, leader, action, trajectory, target (ros2_control names need none)'),
  autoEpisode: z.boolean().default(false).describe('record: one episode from start to end, without the episode services'),
  model: z.string().transform(modelFile).optional().describe('deploy: policy.onnx from armbridge train, or its folder'),
  targetTopic: z.string().optional().describe('deploy: geometry_msgs/msg/PoseStamped topic of the target, for models that observe target.position (reach; deploy --sim publishes /target_pose)'),
  objectTopic: z.string().optional().describe('deploy: PoseStamped topic of the object, for models that observe object.position (pick-place; default /object_pose, what deploy --sim --task pick-place and the recorder publish)'),
  goalTopic: z.string().optional().describe('deploy: PoseStamped topic of the goal, for models that observe goal.position (pick-place; default /goal_pose)'),
  target: z.string().optional().describe('deploy: a fixed target x,y,z (m) instead of --target-topic'),
  object: z.string().optional().describe('deploy: a fixed object position x,y,z (m) instead of --object-topic'),
  goal: z.string().optional().describe('deploy: a fixed goal position x,y,z (m) instead of --goal-topic'),
  nodeName: z.string().default('armbridge').describe('ROS 2 node name'),
});

/** deploy: --<pose>-topic and --<pose> x,y,z → where each pose comes from (one of the two per pose). */
function poseSources(o: Readonly<Partial<Record<`${(typeof POSE_NAMES)[number]}Topic` | (typeof POSE_NAMES)[number], string>>>): PoseSources {
  const out: Partial<Record<(typeof POSE_NAMES)[number], PoseSource>> = {};
  for (const pose of POSE_NAMES) {
    const topic = o[`${pose}Topic`];
    const text = o[pose];
    if (topic !== undefined && text !== undefined) throw new UsageError(`give either --${pose}-topic or --${pose}, not both`);
    if (text !== undefined) {
      const v = text.split(',').map(Number);
      if (v.length !== 3 || !v.every(Number.isFinite)) throw new UsageError(`--${pose} wants three numbers x,y,z in metres, got "${text}"`);
      out[pose] = { value: [v[0]!, v[1]!, v[2]!] };
    } else if (topic !== undefined) out[pose] = { topic };
  }
  return out;
}

export const rosCommand: Command<typeof options> = {
  name: 'ros',
  summary: 'The ROS 2 node: bridge an arm, record ROS topics, deploy a policy on ROS topics (needs a sourced ROS 2 and rclnodejs)',
  options,
  positional: 'mode',
  examples: [
    'armbridge ros bridge --follower /dev/ttyACM0 --out recordings/ros.mcap',
    'armbridge ros record --topics /joint_states,/forward_position_controller/commands,/target_pose --out recordings/ur.mcap',
    'armbridge ros deploy --model models/reach/policy.onnx --target-topic /target_pose',
    'armbridge ros deploy --model models/pick-bc/policy.onnx --goal 0.17,-0.08,0.0125',
  ],
  async run(o, { stdout, stderr, signal }) {
    if (o.mode === 'record' && !o.out) {
      stderr.write('give --out FILE.mcap\n');
      return 2;
    }
    if (o.mode === 'deploy' && !o.model) {
      stderr.write('give --model policy.onnx\n');
      return 2;
    }
    if (o.mode === 'bridge' && !o.follower && !o.sim) {
      stderr.write('give --follower PORT (or --sim)\n');
      return 2;
    }
    // Pose flags are checked before ROS is touched (a usage error exits 2).
    const poses = o.mode === 'deploy' ? poseSources(o) : {};
    const say = (l: string) => stdout.write(l);
    const rate = o.rate ?? BRIDGE_RATE_HZ;
    const graph = await openRosGraph(o.nodeName);
    try {
      if (o.mode === 'record') {
        const r = await runRosRecord({ graph, out: o.out!, overwrite: o.overwrite, topics: parseRecordTopics(o.topics), rateHz: rate, durationS: o.durationS, signal, autoEpisode: o.autoEpisode, onEvent: say });
        stdout.write(`${r.samples} samples, ${r.episodes.kept} episodes kept, ${r.episodes.discarded} discarded → ${r.path}; joints ${r.jointNames.join(', ')}${r.refused ? `; ${r.refused} messages refused (${r.lastRefusal})` : ''}\n`);
        return 0;
      }
      const calPath = o.followerCalibration ?? (o.sim ? simCalibrationPath(o.arm, 'follower') : `calibration/${o.arm}-follower.json`);
      const calibration = await loadCalibration(calPath);
      const profile = armProfile(o.arm, 'follower');
      if (o.mode === 'deploy') {
        checkCalibration(calibration, profile);
        const joints = profile.joints.map((j) => new JointConverter(j, calibration.joints[j.name]!));
        const jointNames = profile.joints.map((j) => j.name);
        // The observation is the model's own layout: each pose it observes from a topic or a fixed
        // value, refused before onnxruntime loads when it observes what no flag provides.
        const plan = planObservation(o.model!, (await readPolicyMetadata(o.model!)).observation, jointNames.length, poses);
        // onnxruntime is heavy: loaded only by the command that runs a model.
        const { OnnxPolicy } = await import('../../control/onnx-policy.ts');
        const policy = await OnnxPolicy.load(o.model!, { jointNames, observation: plan.layout });
        try {
          stdout.write(`observing ${describePlan(plan, TOPICS.jointStates)}\n`);
          const r = await runRosDeploy({ graph, policy, jointNames, lower: joints.map((j) => j.lower), upper: joints.map((j) => j.upper), rateHz: o.rate, force: o.force, onNote: (l) => stderr.write(l), durationS: o.durationS, estop: signal, poses });
          stdout.write(`${r.published} commands on ${TOPICS.forwardCommands} at ${r.achievedHz.toFixed(1)} Hz (asked ${r.rate.rateHz}${r.rate.source === 'model' ? ", the model's rate" : ''})${r.waitingForPoses ? `, ${r.waitingForPoses} of them held waiting for poses` : ''}${r.refused ? `, ${r.refused} messages refused` : ''}; safety: ${describeSafety(r.safety)}\n`);
          return 0;
        } finally {
          await policy.close();
        }
      }
      let sim: SimPort | undefined;
      let follower: Arm | undefined;
      let leader: Arm | undefined;
      let recorder: Recorder | undefined;
      try {
        sim = o.sim ? await openSimPort(o.arm, 'follower', 'pty') : undefined;
        const followerPath = sim?.path ?? o.follower!;
        const leaderCalibration = o.leader ? await loadCalibration(o.leaderCalibration ?? `calibration/${o.arm}-leader.json`) : undefined;
        if (o.out) {
          recorder = await Recorder.create(
            { path: o.out, overwrite: o.overwrite },
            { arm: o.arm, rate_hz: String(rate), software: `armbridge ${ARMBRIDGE_VERSION}`, operator: 'ros', joint_names: profile.joints.map((j) => j.name).join(','), follower_calibration: JSON.stringify(calibration), ...(o.sim ? { simulated: 'true' } : {}) },
          );
        }
        stdout.write(`bridging the ${o.arm} follower (${sim ? `simulated, ${sim.path}` : o.follower}) at ${rate} Hz: ${TOPICS.jointStates} out, ${TOPICS.forwardCommands} and ${TOPICS.trajectory} in, services ${Object.values(SERVICES).join(', ')}\n`);
        // Ctrl-C / SIGTERM is an e-stop, as in teleop and deploy: hold, then torque off at once.
        const common = { graph, rateHz: rate, durationS: o.durationS, estop: signal, recorder, onEvent: say };
        // The loop engine's worker owns the ports (real ones, or the simulator's pty); the graph stays
        // here. Where a worker thread cannot open serial ports, or with the in-process simulator, the
        // loop runs on this thread.
        const inWorker = process.platform === 'linux' && sim?.binding === undefined;
        let r: Awaited<ReturnType<typeof runRosBridge>>;
        if (inWorker) {
          r = await runRosBridge({
            ...common,
            arm: { kind: o.arm, calibration, path: followerPath, busTimeoutMs: sim ? 100 : undefined },
            leader: o.leader ? { calibration: leaderCalibration!, path: o.leader } : undefined,
            realtimePriority: 50,
            onReady: (i) => stdout.write(`loop in a worker thread at ${i.realtime.detail}\n`),
          });
        } else {
          follower = await Arm.open({ profile, calibration, path: followerPath, binding: sim?.binding, bus: sim ? { timeoutMs: 100 } : undefined });
          if (o.leader) leader = await Arm.open({ profile: armProfile(o.arm, 'leader'), calibration: leaderCalibration!, path: o.leader });
          r = await runRosBridge({ ...common, follower, leader });
          await parkArm(follower);
        }
        stdout.write(`${r.cycles} cycles at ${r.achievedHz.toFixed(1)} Hz, ${r.published} joint states published, commands: ${r.commands.forward} forward, ${r.commands.trajectory} trajectory, ${r.commands.refused} refused; episodes ${r.episodes.kept} kept, ${r.episodes.discarded} discarded${r.logDropped ? `; ${r.logDropped} cycles not drained in time` : ''}\nsafety: ${describeSafety(r.safety)}\n`);
        return 0;
      } finally {
        await recorder?.close();
        await leader?.close();
        await follower?.close();
        await sim?.close();
      }
    } finally {
      await graph.close();
    }
  },
};
