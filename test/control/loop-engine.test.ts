import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCalibration } from '../../src/arm/calibration.ts';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { LoopSpecError } from '../../src/control/errors.ts';
import { runLoopInWorker, runRecordInWorker, runTeleopInWorker } from '../../src/control/loop-host.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { readRecording } from '../../src/record/read.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import type { ArmsEnvParams, ArmsEnvReport } from '../helpers/arms-env.ts';

const ENV = new URL('../helpers/arms-env.ts', import.meta.url).href;

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'armbridge-engine-'));
  const follower = await loadCalibration(simCalibrationPath('so101', 'follower'));
  const leader = await loadCalibration(simCalibrationPath('so101', 'leader'));
  const env = (extra: Partial<ArmsEnvParams> = {}) => ({ module: ENV, params: { reportPath: join(dir, `env-${Math.random().toString(36).slice(2)}.json`), ...extra } satisfies ArmsEnvParams });
  const report = async (e: ReturnType<typeof env>) => JSON.parse(await readFile(e.params.reportPath, 'utf8')) as ArmsEnvReport;
  // Reads that time out on a busy machine must not trip the watchdog in the tests that are not about it.
  const arms = { arm: { kind: 'so101' as const, calibration: follower }, leader: { calibration: leader }, readTimeoutMs: 50, holdAfterMs: 1000, torqueOffAfterMs: 5000 };
  return { dir, arms, env, report };
}

describe('teleop loop in the loop worker (leader and follower owned by the worker)', () => {
  it('the follower follows the leader, every cycle reaches the main thread, the follower parks after a normal end', async () => {
    const { arms, env, report } = await setup();
    const e = env();
    let records = 0;
    let withLeader = 0;
    const r = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 1.5, environment: e, park: { speed: 1.5, timeoutS: 3 }, onRecord: (c) => ((records += 1), (withLeader += c.leader ? 1 : 0)) });
    expect(r.thread).toBe('worker');
    expect(r.stop).toBe('duration');
    expect(r.safety.faults).toBe(0);
    expect(r.trackingErrorRad).toBeLessThan(0.05);
    expect(records).toBe(r.cycles);
    expect(r.logDropped).toBe(0);
    expect(withLeader).toBeGreaterThan(r.cycles * 0.5);
    expect(r.parked).toBe(true);
    expect(r.wake.mode).toBe('adaptive');
    expect(r.wake.spinUs).toBeLessThanOrEqual(r.wake.maxSpinUs);
    const seen = await report(e);
    expect(seen.goalViolations).toBe(0);
    expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);
  });

  it('a stop from the main thread ends the run normally (park); an e-stop holds, cuts torque and throws', async () => {
    const { arms, env, report } = await setup();
    const stop = new AbortController();
    let n = 0;
    const r = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 30, environment: env(), park: false, signal: stop.signal, onRecord: () => ++n === 50 && stop.abort() });
    expect(r.stop).toBe('key');
    expect(r.cycles).toBeLessThan(1000);
    const e = env();
    const estop = new AbortController();
    let m = 0;
    const err = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 30, environment: e, estop: estop.signal, onRecord: () => ++m === 50 && estop.abort() }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SafetyStopError);
    // The signal's own words cross the control word to the worker, not the e-stop key's.
    expect((err as Error).message).toMatch(/e-stop: interrupted \(Ctrl-C \/ SIGTERM\)/);
    expect((await report(e)).torqueOnAtClose.every((t) => !t)).toBe(true);
  });

  it('an e-stop signal carrying a reason: the worker reports that reason', async () => {
    const { arms, env } = await setup();
    const estop = new AbortController();
    let m = 0;
    const err = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 30, environment: env(), estop: estop.signal, onRecord: () => ++m === 30 && estop.abort('the light curtain was broken') }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/e-stop: the light curtain was broken/);
  });

  it('the e-stop key (polled on the main thread) is an e-stop too', async () => {
    const { arms, env } = await setup();
    let polls = 0;
    const err = await runTeleopInWorker({ ...arms, rateHz: 100, durationS: 30, environment: env(), control: () => (++polls === 20 ? 'estop' : undefined) }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/e-stop key/);
  });

  for (const [fault, cause] of [
    ['unplug-leader', /unplugged/],
    // The cable pulled mid-transaction: that read times out; later ones find the port gone (either names the arm state lost).
    ['unplug-follower', /lost the arm state: .*(unplugged|did not answer)/],
    ['silent-leader', /servo 2 did not answer/],
  ] as const) {
    it(`${fault}: the follower holds, the watchdog cuts its torque, SafetyStopError names the cause`, async () => {
      const { arms, env, report } = await setup();
      const e = env({ faultAtCycle: 30, fault });
      const commands: number[][] = [];
      const err = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 10, holdAfterMs: 50, torqueOffAfterMs: 250, environment: e, onRecord: (c) => c.index >= 32 && commands.push(Array.from(c.command)) }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(SafetyStopError);
      expect((err as Error).message).toMatch(cause);
      expect((err as Error).message).toMatch(/torque was turned off/);
      // Held: every command after the fault repeats the last one before it.
      for (const c of commands) expect(c).toEqual(commands[0]);
      const seen = await report(e);
      if (fault !== 'unplug-follower') expect(seen.torqueOnAtClose.every((t) => !t)).toBe(true);
      // Unplugged servos keep their last goal: nothing after the fault moved them.
      else expect(seen.goalsAtClose).toEqual(seen.goalsAtFault);
      expect(seen.goalViolations).toBe(0);
    });
  }

  it('a ring the main thread drains too slowly drops and counts records; the loop never waits for it', async () => {
    const { arms, env } = await setup();
    const r = await runTeleopInWorker({ ...arms, rateHz: 200, durationS: 1.2, environment: env(), park: false, ringCapacity: 16, drainEveryMs: 300 });
    expect(r.logDropped).toBeGreaterThan(0);
    expect(r.logged + r.logDropped).toBe(r.cycles);
  });

  it('a loop without what its kind needs is a LoopSpecError naming it', async () => {
    const { arms, env } = await setup();
    const err = await runLoopInWorker({ kind: 'teleop', arm: arms.arm, rateHz: 100, durationS: 1, environment: env() }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(LoopSpecError);
    expect((err as Error).message).toMatch(/a teleop loop needs a leader/);
    const err2 = await runLoopInWorker({ kind: 'deploy', arm: arms.arm, rateHz: 100, durationS: 1, environment: env() }).catch((x: unknown) => x);
    expect((err2 as Error).message).toMatch(/a deploy loop needs a model/);
  });

  it('leaves no worker, timer or port behind', async () => {
    const { arms, env } = await setup();
    const count = () => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) if (r !== 'FSReqPromise') c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const run = () => runTeleopInWorker({ ...arms, rateHz: 100, durationS: 0.1, environment: env(), park: false });
    await run();
    await new Promise((r) => setTimeout(r, 20));
    const before = count();
    for (let k = 0; k < 3; k++) await run();
    await run().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const after = count();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });
});

describe('record loop in the loop worker (episodes beside the loop, MCAP on the main thread)', () => {
  it('records the planned episodes with keys (next, re-record), labels them, and parks', async () => {
    const { dir, arms, env, report } = await setup();
    const e = env({ record: true });
    const out = join(dir, 'rec.mcap');
    const recorder = await Recorder.create({ path: out }, { arm: 'so101' });
    // 'next' 20 cycles into episode 0 (ends it early), then 're-record' in the reset after it (discards it).
    let cycles = 0;
    let phase: string | undefined;
    let sent = 0;
    const keys = () => {
      if (sent === 0 && cycles >= 20) return (sent = 1), 'next' as const;
      if (sent === 1 && phase === 'reset') return (sent = 2), 'rerecord' as const;
      return undefined;
    };
    const labelled: number[] = [];
    const r = await runRecordInWorker({
      ...arms,
      rateHz: 100,
      episodes: { episodes: 2, episodeS: 0.6, resetS: 0.2 },
      recorder,
      environment: e,
      control: keys,
      label: async (ep) => (labelled.push(ep.index), { outcome: 'success' }),
      park: { speed: 1.5, timeoutS: 3 },
      onRecord: (c) => ((cycles += 1), (phase = c.episode?.phase)),
    });
    await recorder.close();
    expect(r.session).toMatchObject({ kept: 2, discarded: 1, stoppedBy: 'done' });
    expect(r.parked).toBe(true);
    const rec = await readRecording(out);
    expect(rec.complete).toBe(true);
    const eps = episodesOf(rec);
    expect(eps.map((x) => x.discarded)).toEqual([true, false, false]);
    expect(eps.filter((x) => !x.discarded).every((x) => x.outcome === 'success')).toBe(true);
    expect(labelled).toEqual([0, 1, 2]);
    const actions = rec.messages.filter((m) => m.topic === '/action').length;
    expect(actions).toBe(r.session!.recordedCycles);
    expect(rec.messages.filter((m) => m.topic === '/leader/joint_states').length).toBeGreaterThan(actions * 0.9);
    expect(rec.messages.filter((m) => m.topic === '/target_pose').length).toBe(actions);
    expect(rec.messages.filter((m) => m.topic === '/reward').length).toBe(actions);
    const seen = await report(e);
    expect(seen.episodeStarts).toBe(3);
    expect(seen.resets).toBe(2);
  });

  it('an e-stop mid-episode closes the open episode as cut, throws SafetyStopError, and the file is complete', async () => {
    const { dir, arms, env, report } = await setup();
    const e = env({ record: true });
    const out = join(dir, 'estop.mcap');
    const recorder = await Recorder.create({ path: out }, { arm: 'so101' });
    const estop = new AbortController();
    let n = 0;
    const err = await runRecordInWorker({ ...arms, rateHz: 100, episodes: { episodes: 3, episodeS: 5, resetS: 1 }, recorder, environment: e, estop: estop.signal, onRecord: () => ++n === 40 && estop.abort() }).catch((x: unknown) => x);
    await recorder.close();
    expect(err).toBeInstanceOf(SafetyStopError);
    const rec = await readRecording(out);
    expect(rec.complete).toBe(true);
    const eps = episodesOf(rec);
    expect(eps.length).toBe(1);
    expect(eps[0]!.endNs).toBeDefined();
    expect((await report(e)).torqueOnAtClose.every((t) => !t)).toBe(true);
  });
});
