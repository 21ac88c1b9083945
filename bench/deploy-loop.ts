/**
 * Deployment loop on the simulated follower (in-process binding): achieved rate, wake-up lateness,
 * period jitter, inference latency and read→write latency at 200/500/1000 Hz, against a naive
 * setInterval loop doing the same cycle in the same run. The policy is a small MLP exported to ONNX
 * with the deployment metadata (follower joints + target → joint targets).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arm } from '../src/arm/arm.ts';
import { loadCalibration } from '../src/arm/calibration.ts';
import { armProfile } from '../src/arm/profiles.ts';
import { SafetyFilter } from '../src/arm/safety-filter.ts';
import { runDeploy } from '../src/control/deploy-loop.ts';
import { OnnxPolicy } from '../src/control/onnx-policy.ts';
import { metadataToProps, POLICY_FORMAT } from '../src/dataset/policy-metadata.ts';
import { writeOnnx } from '../src/learn/onnx-export.ts';
import { SimWorld } from '../src/sim/world.ts';
import { simCalibrationPath } from '../src/workflows/paths.ts';
import { serveSimArm } from '../src/workflows/sim-port.ts';
import { wireLimitHz } from './bus-cycles.ts';
import { naiveIntervalLoop } from './naive-loop.ts';
import { summarize, type BenchRow } from './stats.ts';

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const OBS = [{ name: 'follower.position', size: 6 }, { name: 'target.position', size: 3 }];

export async function benchModel(dir: string): Promise<string> {
  const path = join(dir, 'policy.onnx');
  const sizes = [9, 256, 256, 6];
  let s = 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1;
  await writeOnnx(path, {
    layers: sizes.slice(1).map((o, i) => ({ inputs: sizes[i]!, outputs: o, weight: Float32Array.from({ length: sizes[i]! * o }, r), bias: new Float32Array(o) })),
    obsMean: new Float32Array(9),
    obsStd: new Float32Array(9).fill(1),
    actMean: new Float32Array(6),
    actStd: new Float32Array(6).fill(0.01),
    metadata: metadataToProps({ format: POLICY_FORMAT, arm: 'so101', jointNames: JOINTS, observation: OBS, action: [{ name: 'action.position', size: 6 }], policyKind: 'mlp-deterministic', algo: 'bench', dataDigest: '', trainingBackend: 'none', created: '' }),
  });
  return path;
}

async function setup(model: string, transport: 'pty' | 'in-process' = 'in-process') {
  const world = new SimWorld({ arm: 'so101', seed: 3 });
  const port = await serveSimArm(world.follower, transport);
  const arm = await Arm.open({ profile: armProfile('so101', 'follower'), calibration: await loadCalibration(simCalibrationPath('so101', 'follower')), path: port.path, binding: port.binding, bus: { timeoutMs: transport === 'pty' ? 100 : 20 } });
  const policy = await OnnxPolicy.load(model, { jointNames: arm.names, observation: OBS });
  const target = world.task.sampleTarget(world.rng).position;
  return {
    arm,
    policy,
    target,
    close: async () => {
      await policy.close();
      await arm.close();
      await port.close();
      world.close();
    },
  };
}

async function naive(model: string, rate: number, seconds: number) {
  const env = await setup(model);
  const filter = new SafetyFilter({ names: env.arm.names, lower: env.arm.lower, upper: env.arm.upper, maxStep: 2 / rate });
  filter.reset(await env.arm.enableTorqueHolding());
  const q = new Float64Array(6);
  const obs = new Float32Array(9);
  const result = await naiveIntervalLoop(rate, seconds, async () => {
    await env.arm.read(q);
    obs.set(q);
    obs.set(env.target, 6);
    const a = await env.policy.infer(obs);
    filter.markFresh();
    await env.arm.write(filter.filter(a).command);
  });
  await env.close();
  return result;
}

export async function benchDeploy(seconds: number, log: (s: string) => void): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-bench-deploy-'));
  const rows: BenchRow[] = [];
  try {
    const model = await benchModel(dir);
    for (const rate of [200, 500, 1000]) {
      log(`  deploy ${rate} Hz…\n`);
      const env = await setup(model);
      const r = await runDeploy({ follower: env.arm, policy: env.policy, rateHz: rate, durationS: seconds, observeExtra: () => env.target, readTimeoutMs: 20 });
      await env.close();
      log(`  naive setInterval ${rate} Hz…\n`);
      const b = await naive(model, rate, seconds);
      const late = r.latenessUs.slice(1);
      const jitter = summarize(late.slice(1).map((v, k) => Math.abs(v - late[k]!)));
      const inf = summarize(r.inferenceUs);
      const cyc = summarize(r.latencyUs);
      const c = `so101 in-process ${rate} Hz, MLP 9-256-256-6`;
      rows.push({ section: 'deploy', case: c, metric: 'achieved rate', value: r.achievedHz, unit: 'Hz', baseline: { name: 'setInterval', value: b.hz }, ratio: r.achievedHz / b.hz, note: `asked ${rate}; ${r.overruns} overruns, ${r.budgetHolds} budget holds` });
      rows.push({ section: 'deploy', case: c, metric: 'period jitter p50/p99', value: jitter.p50, unit: 'µs', baseline: { name: 'setInterval p50', value: b.jitter.p50 }, note: `p99 ${jitter.p99.toFixed(0)} µs vs setInterval ${b.jitter.p99.toFixed(0)} µs; max ${jitter.max.toFixed(0)} µs` });
      rows.push({ section: 'deploy', case: c, metric: 'inference p50/p99', value: inf.p50, unit: 'µs', note: `p99 ${inf.p99.toFixed(0)} µs (onnxruntime-node, 1 thread)` });
      rows.push({ section: 'deploy', case: c, metric: 'read→write p50/p99', value: cyc.p50, unit: 'µs', note: `p99 ${cyc.p99.toFixed(0)} µs (wire time of the sync read + write: 880 µs)` });
    }
    // Over a real pty (socat) at 1 Mbaud, with the simulator in its own process (`armbridge sim`), as
    // a real arm is: the highest rate achieved to ≥ 98 %, against the wire limit, with its late cycles.
    const wireLimit = wireLimitHz('feetech', 2);
    const link = join(dir, 'so101-follower');
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/armbridge.js', import.meta.url)), 'sim', '--arm', 'so101', '--link', link], { stdio: 'ignore' });
    try {
      for (let k = 0; k < 100 && !existsSync(link); k++) await new Promise((r) => setTimeout(r, 50));
      if (existsSync(link)) {
        for (const rate of [500, 1000]) {
          log(`  deploy over a pty (simulator in its own process) at ${rate} Hz…\n`);
          const arm = await Arm.open({ profile: armProfile('so101', 'follower'), calibration: await loadCalibration(simCalibrationPath('so101', 'follower')), path: link, bus: { timeoutMs: 100 } });
          const policy = await OnnxPolicy.load(model, { jointNames: arm.names, observation: OBS });
          const r = await runDeploy({ follower: arm, policy, rateHz: rate, durationS: Math.min(seconds, 3), observeExtra: () => [0.3, 0, 0.2], readTimeoutMs: 100 }).catch(() => undefined);
          await policy.close();
          await arm.close();
          if (!r) continue;
          rows.push({
            section: 'deploy',
            case: 'so101 over a real pty, 1 Mbaud, sim in its own process',
            metric: `achieved rate, asked ${rate} Hz`,
            value: r.achievedHz,
            unit: 'Hz',
            baseline: { name: 'wire limit (sync read + write)', value: wireLimit },
            ratio: r.achievedHz / wireLimit,
            note: `${r.overruns} of ${r.cycles} cycles woke more than a period late`,
          });
        }
      } else log('  (no socat: pty rows skipped)\n');
    } finally {
      child.kill('SIGINT');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
