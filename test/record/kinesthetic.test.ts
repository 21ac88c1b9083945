import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetyStopError } from '../../src/arm/errors.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { inspectRecording } from '../../src/record/inspect.ts';
import { ComplianceUnsupportedError } from '../../src/record/errors.ts';
import { readRecording } from '../../src/record/read.ts';
import type { SimWorld } from '../../src/sim/world.ts';
import { recordKinestheticSim } from '../../src/workflows/record-kinesthetic.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';
import { runCli } from '../helpers/cli.ts';
import { count, handles } from '../helpers/handles.ts';
import { hasSocat } from '../helpers/socat.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-kin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe.skipIf(!hasSocat)('record --kinesthetic on the simulated follower over a real pty', () => {
  it('keeps torque off while the hand moves the arm, records states without /action, then holds and parks', async () => {
    const before = count(handles());
    const out = join(dir, 'kin.mcap');
    let world: SimWorld | undefined;
    let cycles = 0;
    let torqueOnDuringRecording = 0;
    let minPan = Infinity;
    let maxPan = -Infinity;
    let lastHeld: number[] = [];
    const r = await recordKinestheticSim({
      arm: 'so101',
      out,
      // 20 Hz (the rate of the learning benchmark): 100 ms read timeouts keep this test meaningful
      // on a loaded 2-core machine, where a pty answer can take tens of ms.
      rateHz: 20,
      episodes: 2,
      episodeS: 1.5,
      resetS: 0.3,
      seed: 4,
      transport: 'pty',
      probe: (w) => {
        world = w;
        cycles++;
        if (w.follower.bus.servos.some((s) => s.torqueEnabled)) torqueOnDuringRecording++;
        const pan = w.followerJoints()[0]!;
        minPan = Math.min(minPan, pan);
        maxPan = Math.max(maxPan, pan);
        lastHeld = w.followerJoints();
      },
    });
    expect(r.transport).toBe('pty');
    expect(r.kept).toBe(2);
    expect(r.stoppedBy).toBe('done');
    // Every cycle of the recording: torque off on every servo, and the hand moved the joints.
    expect(cycles).toBeGreaterThan(30);
    expect(torqueOnDuringRecording).toBe(0);
    expect(maxPan - minPan).toBeGreaterThan(0.05);
    // The end: held where the hand left it, parked at the rest pose, then torque off.
    expect(r.park).toMatchObject({ held: true, reached: true });
    expect(world!.follower.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    // It moved from where the hand left it to the rest pose after the hand let go: only a powered
    // servo does that (a limp one stays put), so torque was on for the park.
    const final = world!.followerJoints();
    expect(Math.max(...final.map((q, i) => Math.abs(q - lastHeld[i]!)))).toBeGreaterThan(0.05);

    const rec = await inspectRecording(out);
    const topics = Object.fromEntries(rec.topics.map((t) => [t.topic, t.messages]));
    expect(topics['/action']).toBeUndefined();
    expect(topics['/leader/joint_states']).toBeUndefined();
    expect(topics['/follower/joint_states']).toBeGreaterThan(30);
    expect(rec.metadata).toMatchObject({ demonstration: 'kinesthetic', simulated: 'true', rate_hz: '20' });
    expect(rec.episodes.map((e) => e.operator)).toEqual(['scripted-expert', 'scripted-expert']);
    // The recorded states are what the servos reported over the wire while the hand moved them.
    const ds = await loadDataset([out]);
    expect(ds.labels).toMatchObject({ source: 'derived', derivedEpisodes: 2 });
    const pans = ds.episodes.flatMap((e) => Array.from({ length: e.length }, (_, t) => e.observations[t * 9]!));
    expect(Math.max(...pans) - Math.min(...pans)).toBeGreaterThan(0.05);

    await new Promise((res) => setTimeout(res, 50));
    const after = count(handles());
    for (const kind of Object.keys(after)) expect(after[kind], kind).toBeLessThanOrEqual(before[kind] ?? 0);
  }, 30_000);

  it('e-stop: the open episode is closed as cut, the arm is held then its torque cut, SafetyStopError', async () => {
    const out = join(dir, 'kin-estop.mcap');
    let world: SimWorld | undefined;
    let n = 0;
    const err = await recordKinestheticSim({
      arm: 'koch',
      out,
      rateHz: 50,
      episodes: 3,
      episodeS: 2,
      resetS: 0.3,
      transport: 'pty',
      keys: () => (++n === 20 ? 'estop' : undefined),
      probe: (w) => (world = w),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyStopError);
    expect((err as Error).message).toMatch(/e-stop/);
    expect(world!.follower.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    const rec = await readRecording(out);
    const eps = episodesOf(rec);
    expect(eps).toHaveLength(1);
    expect(eps[0]!.endNs).toBeDefined();
  }, 30_000);

  it('the CLI: record --sim --kinesthetic reports states without /action and the park', async () => {
    const out = join(dir, 'kin-cli.mcap');
    const r = await runCli('record', '--sim', '--kinesthetic', '--arm', 'so101', '--episodes', '1', '--episode-s', '0.5', '--reset-s', '0.2', '--rate', '20', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 kinesthetic episodes kept, 0 discarded; \d+ states recorded at [\d.]+ Hz \(no \/action: train derives the labels\).*held, then parked/);
  }, 30_000);
});

describe('record --kinesthetic --compliance damping', () => {
  it('Feetech: every servo in damping mode while the hand moves the arm, then held and parked', async () => {
    let cycles = 0;
    let notDamping = 0;
    let world: SimWorld | undefined;
    const r = await recordKinestheticSim({
      arm: 'so101',
      out: join(dir, 'kin-damping.mcap'),
      rateHz: 50,
      episodes: 1,
      episodeS: 0.8,
      resetS: 0.2,
      compliance: 'damping',
      transport: 'in-process',
      probe: (w) => {
        world = w;
        cycles++;
        if (!w.follower.bus.servos.every((s) => s.damping)) notDamping++;
      },
    });
    expect(cycles).toBeGreaterThan(20);
    expect(notDamping).toBe(0);
    expect(r.park).toMatchObject({ held: true, reached: true });
    expect(world!.follower.bus.servos.every((s) => !s.torqueEnabled)).toBe(true);
    expect((await inspectRecording(join(dir, 'kin-damping.mcap'))).metadata.compliance).toBe('damping');
  }, 30_000);

  it('Dynamixel (Koch) has no damping mode: ComplianceUnsupportedError before anything is recorded', async () => {
    const err = await recordKinestheticSim({ arm: 'koch', out: join(dir, 'kin-koch-damping.mcap'), rateHz: 50, episodes: 1, episodeS: 0.5, resetS: 0.1, compliance: 'damping', transport: 'in-process' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComplianceUnsupportedError);
    expect(err).toMatchObject({ code: 'COMPLIANCE_UNSUPPORTED' });
    expect((err as Error).message).toMatch(/dynamixel servos have none: use --compliance torque-off/);
    expect((await inspectRecording(join(dir, 'kin-koch-damping.mcap'))).episodes).toHaveLength(0);
  }, 30_000);
});

describe('kinesthetic teaching on the pick-place task', () => {
  it('the hand on the follower picks and places (virtual time, and real time in-process): object and goal poses, no /action', async () => {
    const vt = join(dir, 'pp-kin-vt.mcap');
    const r = await rollout({ arm: 'koch', task: 'pick-place', seed: 2, episodes: 2, episodeS: 8, rateHz: 20, driver: { kind: 'kinesthetic', mix: { expert: 1 } }, out: vt });
    expect(r.successRate).toBe(1);
    const rt = join(dir, 'pp-kin-rt.mcap');
    const live = await recordKinestheticSim({ arm: 'so101', task: 'pick-place', out: rt, rateHz: 20, episodes: 1, episodeS: 8, resetS: 0.2, transport: 'in-process' });
    expect(live.park).toMatchObject({ held: true, reached: true });
    for (const f of [vt, rt]) {
      const rec = await inspectRecording(f);
      const topics = Object.fromEntries(rec.topics.map((t) => [t.topic, t.messages]));
      expect(topics['/action']).toBeUndefined();
      expect(topics['/object_pose']).toBeGreaterThan(100);
      expect(topics['/goal_pose']).toBeGreaterThan(100);
    }
    expect((await inspectRecording(rt)).episodes[0]!.outcome).toBe('success');
  }, 60_000);
});

describe('record --kinesthetic usage', () => {
  it('needs --follower (no leader) or --sim', async () => {
    const r = await runCli('record', '--kinesthetic', '--episodes', '1', '--out', join(dir, 'x.mcap'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--kinesthetic needs --follower PORT/);
    const c = await runCli('record', '--sim', '--compliance', 'damping', '--episodes', '1', '--out', join(dir, 'y.mcap'));
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--compliance applies to --kinesthetic/);
  });
});
