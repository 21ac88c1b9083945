import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/arm/calibration.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { blockingSleeper } from '../../src/arm/rate-loop.ts';
import { CycleRing, LoopCommand, LoopControl } from '../../src/control/cycle-ring.ts';
import { runDeployInWorker } from '../../src/control/loop-host.ts';
import { DeployEnvironmentError, ModelMismatchError } from '../../src/control/errors.ts';
import { FIXED_ENVIRONMENT } from '../../src/control/fixed-environment.ts';
import { LoopWorkerError } from '../../src/control/loop-host.ts';
import { realtimeBudgetShare, requestRealtimePriority } from '../../src/control/realtime-priority.ts';
import { decodeMessage, readRecording } from '../../src/record/read.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import type { TestEnvParams, TestEnvReport } from '../helpers/deploy-env.ts';
import { identityPolicy, type LinearPolicyOptions } from '../helpers/models.ts';

const ENV = new URL('../helpers/deploy-env.ts', import.meta.url).href;

const model = (dir: string, opts: LinearPolicyOptions = {}) => identityPolicy(dir, opts);

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-worker-'));
  const calibration = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const env = (extra: Partial<TestEnvParams> = {}) => ({ module: ENV, params: { reportPath: join(dir, `env-${Math.random().toString(36).slice(2)}.json`), ...extra } satisfies TestEnvParams });
  const report = async (e: ReturnType<typeof env>) => JSON.parse(await readFile(e.params.reportPath, 'utf8')) as TestEnvReport;
  return { dir, calibration, env, report };
}

async function topicMessages(path: string, topic: string) {
  const rec = await readRecording(path);
  return { rec, messages: rec.messages.filter((m) => m.topic === topic) };
}

describe('CycleRing', () => {
  it('hands every record to the reader in order, and counts what a lapped reader lost', () => {
    const ring = new CycleRing(2, 1, 8);
    const put = (i: number) =>
      ring.write({ epochMs: 1000 + i, index: i, status: i % 3 ? 'ok' : 'hold', inferenceUs: i % 2 ? NaN : i, latencyUs: 5, overruns: 0, state: i === 4 ? null : [i, -i], command: [i, i + 0.5], raw: i % 2 ? null : [2 * i, 3 * i], extra: i % 2 ? null : [7 * i], reward: i === 2 ? -0.5 : undefined, success: i === 2 ? true : undefined });
    for (let i = 0; i < 5; i++) put(i);
    const a = ring.read(0);
    expect(a.records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(a.dropped).toBe(0);
    expect(a.records[3]!.status).toBe('hold');
    expect(Array.from(a.records[2]!.state!)).toEqual([2, -2]);
    expect(a.records[4]!.state).toBeNull();
    expect(a.records[1]!.raw).toBeNull();
    expect(Array.from(a.records[2]!.raw!)).toEqual([4, 6]);
    expect(Array.from(a.records[2]!.extra!)).toEqual([14]);
    expect(a.records[1]!.extra).toBeNull();
    expect([a.records[2]!.reward, a.records[2]!.success]).toEqual([-0.5, true]);
    expect(a.records[3]!.reward).toBeNaN();
    expect(a.records[3]!.success).toBeUndefined();
    for (let i = 5; i < 25; i++) put(i);
    const b = ring.read(a.next);
    // 8 slots, one kept as margin: the last 7 survive, the 13 before them were overwritten.
    expect(b.records.map((r) => r.index)).toEqual([18, 19, 20, 21, 22, 23, 24]);
    expect(b.dropped).toBe(13);
    expect(b.next).toBe(25);
  });

  it('an e-stop is never downgraded to a stop', () => {
    const control = new LoopControl();
    control.send(LoopCommand.Stop);
    expect(control.command()).toBe(LoopCommand.Stop);
    control.send(LoopCommand.Estop);
    control.send(LoopCommand.Stop);
    expect(control.command()).toBe(LoopCommand.Estop);
  });
});

describe('blocking sleeper', () => {
  it('sleeps until the deadline, and another thread wakes it at once through the control word', async () => {
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const sleep = blockingSleeper({ wake });
    const t0 = performance.now();
    await sleep(t0 + 20, () => performance.now());
    expect(performance.now()).toBeGreaterThanOrEqual(t0 + 20);
    // A plain worker notifies after 50 ms; the sleeper was asked to wait 60 s.
    const w = new Worker('const { workerData: w } = require("node:worker_threads"); setTimeout(() => { Atomics.store(w, 0, 2); Atomics.notify(w, 0); }, 50);', { eval: true, workerData: wake });
    const t1 = performance.now();
    await sleep(t1 + 60_000, () => performance.now());
    expect(performance.now() - t1).toBeLessThan(30_000);
    expect(Atomics.load(wake, 0)).toBe(2);
    await w.terminate();
  });
});

describe('real-time priority', () => {
  it('is not requested at 0, refuses nonsense, and where granted the thread really is SCHED_FIFO', async () => {
    expect(requestRealtimePriority(0).granted).toBe(false);
    expect(requestRealtimePriority(120).detail).toMatch(/not requested/);
    // In a worker thread (never the test runner's own): granted → /proc says policy 1 (SCHED_FIFO).
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { execFileSync } = require('node:child_process');
      const fs = require('node:fs');
      const tid = fs.readlinkSync('/proc/thread-self').split('/').pop();
      let granted = false;
      try { execFileSync('chrt', ['-f', '-p', '10', tid], { stdio: 'ignore' }); granted = true; } catch {}
      const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
      const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
      parentPort.postMessage({ granted, policy });`;
    if (process.platform !== 'linux') return;
    const w = new Worker(code, { eval: true });
    const m = await new Promise<{ granted: boolean; policy: number }>((r) => w.once('message', r));
    await w.terminate();
    expect(m.policy).toBe(m.granted ? 1 : 0);
  });
});

describe('deploy loop in a worker thread (simulated follower on the worker)', () => {
  it('hostile models (±1e9 oscillating, NaN) never drive a goal outside the calibrated range; every cycle reaches the log', async () => {
    const { dir, calibration, env, report } = await setup();
    for (const [name, opts] of [
      ['oscillating ±1e9', { weight: -1e9, bias: 1e9 }],
      ['NaN', { weight: Number.NaN }],
    ] as const) {
      const e = env();
      const log = join(dir, `hostile-${name.length}.mcap`);
      const recorder = await Recorder.create({ path: log }, { arm: 'so101' });
      const r = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir, opts), rateHz: 100, durationS: 0.6, readTimeoutMs: 50, environment: e, park: false, recorder });
      await recorder.close();
      const seen = await report(e);
      expect(r.thread).toBe('worker');
      expect(seen.cycles).toBe(r.cycles);
      expect(seen.goalViolations).toBe(0);
      if (name === 'NaN') expect(r.safety.nonFinite).toBeGreaterThan(0);
      else expect(r.safety.clampedCycles).toBeGreaterThan(0);
      const { messages } = await topicMessages(log, '/action');
      expect(messages.length).toBe(r.logged);
      expect(r.logged).toBe(seen.cycles);
      expect(r.logDropped).toBe(0);
    }
  });

  it('a model that does not fit is refused before anything is sent to the arm', async () => {
    const { dir, calibration, env, report } = await setup();
    const e = env();
    const err = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir, { meta: { jointNames: ['a', 'b', 'c', 'd', 'e', 'f'] } }), rateHz: 100, durationS: 1, environment: e }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ModelMismatchError);
    expect((err as Error).message).toMatch(/trained on joints \[a,b,c,d,e,f\]/);
    const seen = await report(e);
    expect(seen.instructions).toBe(0);
    expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);
  });

  it('the cable pulled mid-run: hold, SafetyStopError naming the cause, and a valid log up to the fault', async () => {
    const { dir, calibration, env, report } = await setup();
    const e = env({ faultAtCycle: 20, fault: 'unplug' });
    const log = join(dir, 'unplug.mcap');
    const recorder = await Recorder.create({ path: log }, { arm: 'so101' });
    const err = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 100, durationS: 5, readTimeoutMs: 20, environment: e, recorder }).catch((x: unknown) => x);
    await recorder.close();
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/safety stop: lost the arm state: .*unplugged.*torque was turned off/);
    const seen = await report(e);
    // Unplugged servos keep their last goal (hold): nothing after the fault moved them.
    expect(seen.goalsAtClose).toEqual(seen.goalsAtFault);
    const { rec, messages } = await topicMessages(log, '/action');
    expect(rec.complete).toBe(true);
    expect(messages.length).toBeGreaterThanOrEqual(20);
    const safety = (await topicMessages(log, '/safety')).messages.map((m) => decodeMessage<{ data: string }>(rec, m).data);
    expect(safety.some((s) => s.includes('hold'))).toBe(true);
  });

  it('a servo that stops answering: the others lose torque, SafetyStopError names the servo', async () => {
    const { dir, calibration, env, report } = await setup();
    const e = env({ faultAtCycle: 15, fault: 'silent' });
    const err = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 100, durationS: 5, readTimeoutMs: 10, environment: e }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/servo 3 did not answer/);
    const seen = await report(e);
    expect(seen.torqueOnAtClose.filter((_, i) => i !== 2).every((t) => !t)).toBe(true);
  });

  it('SIGINT (e-stop) from the main thread: torque off at once, a readable log, the e-stop in the error', async () => {
    const { dir, calibration, env, report } = await setup();
    const e = env();
    const log = join(dir, 'estop.mcap');
    const recorder = await Recorder.create({ path: log }, { arm: 'so101' });
    const estop = new AbortController();
    let cycles = 0;
    const err = await runDeployInWorker({
      arm: { kind: 'so101', calibration },
      model: await model(dir),
      rateHz: 200,
      durationS: 30,
      environment: e,
      recorder,
      estop: estop.signal,
      onRecord: () => {
        if (++cycles === 40) estop.abort();
      },
    }).catch((x: unknown) => x);
    await recorder.close();
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/e-stop/);
    expect((await report(e)).torqueOnAtClose.every((t) => !t)).toBe(true);
    const { rec, messages } = await topicMessages(log, '/action');
    expect(rec.complete).toBe(true);
    expect(messages.length).toBeGreaterThanOrEqual(40);
    expect((await topicMessages(log, '/follower/joint_states')).messages.length).toBeGreaterThan(0);
  });

  it('the worker opens the follower as Arm.open does on the main thread: profile servo settings, with the overrides of the spec', async () => {
    const { dir, calibration, env, report } = await setup();
    for (const [servoSettings, expected] of [
      [undefined, 500],
      [[{ joint: 'gripper', register: 'Max_Torque_Limit', value: 420 }], 420],
    ] as const) {
      const e = env();
      await runDeployInWorker({ arm: { kind: 'so101', calibration, servoSettings }, model: await model(dir), rateHz: 100, durationS: 0.2, environment: e, park: false });
      expect((await report(e)).gripperMaxTorqueLimit).toBe(expected);
    }
  });

  it('a normal stop (signal) ends the run without an error, and the status callback reports the loop', async () => {
    const { dir, calibration, env } = await setup();
    const stop = new AbortController();
    const statuses: number[] = [];
    const r = await runDeployInWorker({
      arm: { kind: 'so101', calibration },
      model: await model(dir),
      rateHz: 200,
      durationS: 30,
      environment: env(),
      park: false,
      signal: stop.signal,
      statusEveryMs: 100,
      onStatus: (s) => {
        statuses.push(s.cycles);
        if (statuses.length === 3) stop.abort();
      },
    });
    expect(r.stop).toBe('key');
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(statuses[2]!).toBeGreaterThan(statuses[0]!);
  });

  it('a SCHED_FIFO loop that keeps overrunning gives FIFO up (the kernel would throttle it) and says so', async () => {
    const { dir, calibration, env } = await setup();
    // 2000 Hz cannot be held (the simulated wire alone takes 880 µs a cycle): nearly every cycle overruns.
    const r = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 2000, durationS: 4, environment: env(), park: false, realtimePriority: 10 });
    expect(r.overruns).toBeGreaterThan(r.cycles / 2);
    if (!r.realtime.detail.startsWith('SCHED_FIFO')) return; // FIFO not permitted here: nothing to give up
    expect(r.realtime.granted).toBe(false);
    expect(r.realtime.detail).toMatch(/^SCHED_FIFO 10 \(thread \d+\), given up after [\d.]+ s: the loop overran \d+ of 500 cycles/);
    // Back to the highest normal priority (root here; elsewhere renice may be refused, and it says so).
    expect(r.realtime.detail).toMatch(/; now normal priority(, nice -20| \(nice -20 refused\))$/);
  });

  it('a SCHED_FIFO loop at the wire\'s limit (running nearly all the time) gives FIFO up before the kernel throttles it', async () => {
    const { dir, calibration, env } = await setup();
    // 1000 Hz: the wire takes ~1000 µs a cycle, so the thread never sleeps, though few cycles overrun by a whole period.
    const r = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 1000, durationS: 1.5, environment: env(), park: false, realtimePriority: 10 });
    if (!r.realtime.detail.startsWith('SCHED_FIFO') || realtimeBudgetShare() >= 1) return; // FIFO not permitted, or no RT budget: nothing to give up
    expect(r.realtime.granted).toBe(false);
    expect(r.realtime.detail).toMatch(/given up after 0\.\d s: the loop (ran \d+ % of the time, and the kernel stops a FIFO thread past 95 % of each second|overran \d+ of 250 cycles)/);
    // No stall of the kernel's throttling (50 ms) in the run.
    expect(Math.max(...r.latenessUs)).toBeLessThan(40_000);
  });

  it('leaves no worker, timer or port behind', async () => {
    const { dir, calibration, env } = await setup();
    const path = await model(dir);
    const count = () => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (r !== 'FSReqPromise') c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const run = () => runDeployInWorker({ arm: { kind: 'so101', calibration }, model: path, rateHz: 100, durationS: 0.1, environment: env(), park: false });
    await run(); // the first worker sets up process-wide things (stdio pipes) that stay
    await new Promise((r) => setTimeout(r, 20));
    const before = count();
    for (let k = 0; k < 3; k++) await run();
    await new Promise((r) => setTimeout(r, 20));
    const after = count();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });

  it('a missing model file is a clear error, and a missing environment module too', async () => {
    const { calibration, env } = await setup();
    await expect(runDeployInWorker({ arm: { kind: 'so101', calibration }, model: '/nonexistent/p.onnx', rateHz: 100, durationS: 1, environment: env() })).rejects.toThrow(/cannot load model \/nonexistent\/p.onnx/);
    await writeFile(join(tmpdir(), 'armbridge-not-an-env.mjs'), 'export const x = 1;');
    await expect(runDeployInWorker({ arm: { kind: 'so101', calibration }, model: '/nonexistent/p.onnx', rateHz: 100, durationS: 1, environment: { module: `file://${join(tmpdir(), 'armbridge-not-an-env.mjs')}`, params: {} } })).rejects.toThrow(/does not export createLoopEnvironment\(params\) \(or createDeployEnvironment\)/);
  });

  it('a fixed observation that does not match its layout is a DeployEnvironmentError naming the layout', async () => {
    const { dir, calibration } = await setup();
    const params = { path: '/nonexistent/ttyACM0', extra: { layout: [{ name: 'target.position', size: 3 }], values: [0.3, 0] } };
    const err = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 100, durationS: 1, environment: { module: FIXED_ENVIRONMENT, params } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployEnvironmentError);
    expect((err as Error).message).toMatch(/the fixed observation has 2 values for a layout of 3 \(target\.position\[3\]\)/);
  });

  it('a worker that dies without a result is a LoopWorkerError that says to check the arm', async () => {
    const { dir, calibration } = await setup();
    const module = join(dir, 'dies.mjs');
    await writeFile(module, 'export async function createDeployEnvironment() { process.exit(3); }');
    const err = await runDeployInWorker({ arm: { kind: 'so101', calibration }, model: await model(dir), rateHz: 100, durationS: 1, environment: { module: `file://${module}`, params: {} } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoopWorkerError);
    expect((err as Error).message).toMatch(/ended without a result: exit code 3; the follower's torque state is unknown, check the arm/);
  });
});
