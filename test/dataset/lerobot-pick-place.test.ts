import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLeRobot } from '../../src/dataset/lerobot-export.ts';
import { importLeRobot } from '../../src/dataset/lerobot-import.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { readParquet } from '../../src/dataset/parquet.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

let dir: string;
let recorded: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-lerobot-pick-'));
  recorded = join(dir, 'pick.mcap');
  await rollout({ arm: 'so101', task: 'pick-place', seed: 3, episodes: 2, episodeS: 8, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: recorded });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a recorded pick-and-place episode in LeRobotDataset form', () => {
  it('exports the object and the goal as observation.environment_state and a gripper that closes and opens in action', async () => {
    const ds = join(dir, 'exported');
    await exportLeRobot([recorded], ds, { task: 'Pick up the cube and put it in the bin' });
    const info = JSON.parse(await readFile(join(ds, 'meta', 'info.json'), 'utf8')) as { features: Record<string, { shape: number[]; names: string[] | null }> };
    expect(info.features['observation.environment_state']).toMatchObject({ shape: [6], names: ['object.x', 'object.y', 'object.z', 'goal.x', 'goal.y', 'goal.z'] });
    const src = await loadDataset([recorded]);
    expect(src.layout.observation.map((p) => p.name)).toEqual(['follower.position', 'object.position', 'goal.position']);
    const table = await readParquet(join(ds, 'data', 'chunk-000', 'file-000.parquet'), ['episode_index', 'action', 'observation.environment_state']);
    const first = table.rows.filter((r) => Number(r.episode_index) === 0);
    const gripper = first.map((r) => Number((r.action as number[])[5]));
    // LeRobot's gripper is 0 (closed) … 100 (open): the expert opens, closes on the cube, opens at the goal.
    const closedAt = gripper.findIndex((g) => g < 15);
    expect(closedAt).toBeGreaterThan(0);
    expect(Math.max(...gripper.slice(0, closedAt))).toBeGreaterThan(75);
    expect(Math.max(...gripper.slice(closedAt))).toBeGreaterThan(75);
    // The object is lifted while carried: its z rises above the table and comes back down.
    const z = first.map((r) => Number((r['observation.environment_state'] as number[])[2]));
    expect(z[0]).toBeCloseTo(0.0125, 4);
    expect(Math.max(...z)).toBeGreaterThan(0.05);
    expect(z[z.length - 1]).toBeCloseTo(0.0125, 4);
  });

  it('round-trips through export and import: the same observations (object and goal included), actions and returns', async () => {
    const ds = join(dir, 'roundtrip');
    const back = join(dir, 'roundtrip.mcap');
    await exportLeRobot([recorded], ds);
    await importLeRobot(ds, back);
    const a = await loadDataset([recorded]);
    const b = await loadDataset([back]);
    expect(b.layout).toEqual(a.layout);
    expect(b.episodes.map((e) => [e.length, e.outcome])).toEqual(a.episodes.map((e) => [e.length, e.outcome]));
    let maxErr = 0;
    a.episodes.forEach((e, i) => {
      const f = b.episodes[i]!;
      for (let k = 0; k < e.observations.length; k++) maxErr = Math.max(maxErr, Math.abs(e.observations[k]! - f.observations[k]!));
      for (let k = 0; k < e.actions.length; k++) maxErr = Math.max(maxErr, Math.abs(e.actions[k]! - f.actions[k]!));
      expect(f.return!).toBeCloseTo(e.return!, 4);
    });
    expect(maxErr).toBeLessThanOrEqual(1e-5);
  });
});

describe('recording pick and place in real time (the loop worker, in-process serial binding)', () => {
  it('records the object and goal poses beside the joints, and loads with the pick-and-place observation', async () => {
    const { recordSim } = await import('../../src/workflows/record-sim.ts');
    const out = join(dir, 'realtime.mcap');
    await recordSim({ arm: 'koch', task: 'pick-place', out, rateHz: 20, episodes: 1, episodeS: 1, resetS: 0.1, transport: 'in-process', seed: 5 });
    const ds = await loadDataset([out]);
    expect(ds.layout.observation).toEqual([{ name: 'follower.position', size: 6 }, { name: 'object.position', size: 3 }, { name: 'goal.position', size: 3 }]);
    const e = ds.episodes[0]!;
    expect(e.length).toBeGreaterThan(10);
    // The cube rests on the table (2.5 cm cube: centre 1.25 cm up) and the goal is elsewhere.
    expect(e.observations[6 + 2]).toBeCloseTo(0.0125, 4);
    expect(Math.hypot(e.observations[6]! - e.observations[9]!, e.observations[7]! - e.observations[10]!)).toBeGreaterThan(0.05);
  }, 30_000);
});
