import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JointConverter, loadCalibration, toLeRobotCalibration } from '../../src/arm/calibration.ts';
import { armProfile } from '../../src/arm/profiles.ts';
import { main } from '../../src/cli/main.ts';
import { CalibrationMissingError, DataMismatchError, DatasetExistsError, DatasetWriteError, InfoInvalidError, InfoMissingError, NoStateActionError, UnsupportedVersionError } from '../../src/dataset/lerobot-errors.ts';
import { exportLeRobot } from '../../src/dataset/lerobot-export.ts';
import { CODEBASE_VERSION, LeRobotJointUnits, leRobotInfoSchema, VIDEO_PATH } from '../../src/dataset/lerobot-format.ts';
import { importLeRobot } from '../../src/dataset/lerobot-import.ts';
import { loadDataset } from '../../src/dataset/load.ts';
import { RateMismatchError } from '../../src/record/edit-errors.ts';
import { episodesOf } from '../../src/record/episodes.ts';
import { readRecording } from '../../src/record/read.ts';
import { stripActions } from '../../src/record/strip-actions.ts';
import { channelsOf, mergeRecordings } from '../../src/record/edit.ts';
import { writeRecordingAtomic } from '../../src/record/rewrite.ts';
import { Recorder } from '../../src/record/recorder.ts';
import { rosTime } from '../../src/record/ros-schemas.ts';
import { recordSim } from '../../src/workflows/record-sim.ts';
import { simCalibrationPath } from '../../src/workflows/paths.ts';
import { rollout } from '../../src/workflows/sim-rollout.ts';

let dir: string;
let recorded: string;
let recorded2: string;
let fast: string;
let fast10: string;
let exported: string;
let db: DuckDBInstance;
let con: DuckDBConnection;
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${n++}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'armbridge-lerobot-'));
  recorded = join(dir, 'recorded.mcap');
  recorded2 = join(dir, 'recorded2.mcap');
  await recordSim({ arm: 'so101', out: recorded2, rateHz: 50, episodes: 1, episodeS: 0.4, resetS: 0.1, transport: 'in-process', seed: 12 });
  fast = join(dir, 'fast.mcap');
  fast10 = join(dir, 'fast10.mcap');
  await recordSim({ arm: 'so101', out: recorded, rateHz: 50, episodes: 3, episodeS: 0.6, resetS: 0.2, transport: 'in-process', seed: 8, mix: { expert: 1, poor: 1 } });
  await rollout({ arm: 'so101', seed: 9, episodes: 4, episodeS: 1, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1, poor: 1 } }, out: fast });
  await rollout({ arm: 'so101', seed: 9, episodes: 1, episodeS: 1, rateHz: 10, driver: { kind: 'operator', mix: { expert: 1 } }, out: fast10 });
  exported = join(dir, 'exported');
  await exportLeRobot([fast], exported, { task: 'Reach the target and hold' });
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
}, 60_000);

afterAll(() => {
  con?.closeSync();
  db?.closeSync();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function types(file: string): Promise<Record<string, string>> {
  const r = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  return Object.fromEntries(r.map((x) => [x.column_name as string, x.column_type as string]));
}

async function leftovers(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((f) => f.includes('.tmp-'));
}

describe('export lerobot: layout and meta/info.json', () => {
  it('writes the v3.0 layout; info.json passes the schema written from LeRobot’s documented fields', async () => {
    const files = (await readdir(exported, { recursive: true })).map(String).sort();
    expect(files).toEqual(
      expect.arrayContaining(['data/chunk-000/file-000.parquet', 'meta/episodes/chunk-000/file-000.parquet', 'meta/info.json', 'meta/stats.json', 'meta/tasks.parquet']),
    );
    const info = JSON.parse(await readFile(join(exported, 'meta/info.json'), 'utf8')) as Record<string, unknown>;
    expect(leRobotInfoSchema.safeParse(info).success).toBe(true);
    const ds = await loadDataset([fast]);
    expect(info).toMatchObject({
      codebase_version: CODEBASE_VERSION,
      robot_type: 'so101_follower',
      total_episodes: 4,
      total_frames: ds.episodes.reduce((a, e) => a + e.length, 0),
      total_tasks: 1,
      chunks_size: 1000,
      fps: 20,
      splits: { train: '0:4' },
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: null,
    });
    const features = info.features as Record<string, { dtype: string; shape: number[]; names: unknown }>;
    expect(features['observation.state']).toEqual({ dtype: 'float32', shape: [6], names: ['shoulder_pan.pos', 'shoulder_lift.pos', 'elbow_flex.pos', 'wrist_flex.pos', 'wrist_roll.pos', 'gripper.pos'] });
    expect(features.action!.names).toEqual(features['observation.state']!.names);
    for (const k of ['frame_index', 'episode_index', 'index', 'task_index']) expect(features[k]).toEqual({ dtype: 'int64', shape: [1], names: null });
    expect(features.timestamp).toEqual({ dtype: 'float32', shape: [1], names: null });
  });

  it('the info schema rejects what a LeRobot loader could not use', () => {
    const good = { codebase_version: 'v3.0', robot_type: null, total_episodes: 1, total_frames: 2, total_tasks: 1, chunks_size: 1000, data_files_size_in_mb: 100, fps: 30, splits: { train: '0:1' }, data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet', video_path: null, features: { timestamp: { dtype: 'float32', shape: [1], names: null }, frame_index: { dtype: 'int64', shape: [1], names: null }, episode_index: { dtype: 'int64', shape: [1], names: null }, index: { dtype: 'int64', shape: [1], names: null }, task_index: { dtype: 'int64', shape: [1], names: null } } };
    expect(leRobotInfoSchema.safeParse(good).success).toBe(true);
    expect(leRobotInfoSchema.safeParse({ ...good, splits: { train: '0:5' } }).success).toBe(false);
    expect(leRobotInfoSchema.safeParse({ ...good, fps: 29.97 }).success).toBe(false);
    const { frame_index: _f, ...noFrame } = good.features;
    expect(leRobotInfoSchema.safeParse({ ...good, features: noFrame }).success).toBe(false);
    expect(leRobotInfoSchema.safeParse({ ...good, features: { ...good.features, 'a/b': { dtype: 'float32', shape: [1] } } }).success).toBe(false);
    expect(leRobotInfoSchema.safeParse({ ...good, features: { ...good.features, cam: { dtype: 'video', shape: [4, 4, 3] } } }).success).toBe(false);
  });
});

describe('export lerobot: Parquet read back by DuckDB (an independent reader)', () => {
  it('data/ has exactly the feature columns, with the types LeRobot expects', async () => {
    const file = join(exported, 'data/chunk-000/file-000.parquet');
    expect(await types(file)).toEqual({
      action: 'FLOAT[]',
      'observation.state': 'FLOAT[]',
      'observation.environment_state': 'FLOAT[]',
      'next.reward': 'FLOAT',
      timestamp: 'FLOAT',
      frame_index: 'BIGINT',
      episode_index: 'BIGINT',
      index: 'BIGINT',
      task_index: 'BIGINT',
    });
    const r = await rows(`SELECT count(*) AS n, min(len("observation.state")) AS lo, max(len(action)) AS hi FROM read_parquet('${file}')`);
    expect(r[0]).toEqual({ n: '80', lo: '6', hi: '6' });
    const idx = await rows(`SELECT "index", frame_index, episode_index, timestamp FROM read_parquet('${file}')`);
    idx.forEach((x, i) => {
      expect(Number(x.index)).toBe(i);
      expect(Number(x.episode_index)).toBe(Math.floor(i / 20));
      expect(Number(x.frame_index)).toBe(i % 20);
      expect(x.timestamp as number).toBeCloseTo((i % 20) / 20, 6);
    });
  });

  it('state and action are the recorded values in LeRobot degrees (gripper 0…100), converted through the calibration', async () => {
    const ds = await loadDataset([fast]);
    const cal = await loadCalibration(simCalibrationPath('so101', 'follower'));
    const conv = armProfile('so101', 'follower').joints.map((j) => new LeRobotJointUnits(j.name, cal.joints[j.name], 'degrees'));
    const got = await rows(`SELECT "observation.state" AS s, action AS a, "observation.environment_state" AS env FROM read_parquet('${join(exported, 'data/chunk-000/file-000.parquet')}') ORDER BY "index"`);
    let r = 0;
    for (const e of ds.episodes) {
      for (let k = 0; k < e.length; k++, r++) {
        const s = got[r]!.s as number[];
        const a = got[r]!.a as number[];
        for (let j = 0; j < 6; j++) {
          expect(s[j]).toBeCloseTo(conv[j]!.toLeRobot(e.observations[k * 9 + j]!), 3);
          expect(a[j]).toBeCloseTo(conv[j]!.toLeRobot(e.actions[k * 6 + j]!), 3);
        }
        expect(s[5]).toBeGreaterThanOrEqual(-1);
        expect(s[5]).toBeLessThanOrEqual(101);
        expect((got[r]!.env as number[])[0]).toBeCloseTo(e.observations[k * 9 + 6]!, 5);
      }
    }
  });

  it('meta/episodes, meta/tasks.parquet (task as the pandas index) and stats.json agree with the data', async () => {
    const ep = join(exported, 'meta/episodes/chunk-000/file-000.parquet');
    const t = await types(ep);
    expect(t).toMatchObject({ episode_index: 'BIGINT', tasks: 'VARCHAR[]', length: 'BIGINT', 'data/chunk_index': 'BIGINT', 'data/file_index': 'BIGINT', dataset_from_index: 'BIGINT', dataset_to_index: 'BIGINT', 'meta/episodes/chunk_index': 'BIGINT', 'meta/episodes/file_index': 'BIGINT', 'stats/action/mean': 'DOUBLE[]', 'stats/action/count': 'BIGINT[]' });
    const eps = await rows(`SELECT episode_index, tasks, length, dataset_from_index AS a, dataset_to_index AS b FROM read_parquet('${ep}') ORDER BY episode_index`);
    expect(eps.map((e) => [Number(e.episode_index), Number(e.a), Number(e.b), Number(e.length)])).toEqual([0, 1, 2, 3].map((i) => [i, i * 20, i * 20 + 20, 20]));
    expect(eps[0]!.tasks).toEqual(['Reach the target and hold']);
    const tasks = join(exported, 'meta/tasks.parquet');
    expect(await rows(`SELECT task, task_index FROM read_parquet('${tasks}')`)).toEqual([{ task: 'Reach the target and hold', task_index: '0' }]);
    const kv = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${tasks}')`);
    expect(JSON.parse(kv.find((x) => x.k === 'pandas')!.v as string)).toMatchObject({ index_columns: ['task'] });
    const stats = JSON.parse(await readFile(join(exported, 'meta/stats.json'), 'utf8')) as Record<string, Record<string, number[]>>;
    for (const f of ['action', 'observation.state', 'timestamp', 'frame_index', 'index']) expect(Object.keys(stats[f]!).sort()).toEqual(['count', 'max', 'mean', 'min', 'q01', 'q10', 'q50', 'q90', 'q99', 'std']);
    expect(stats.action!.count).toEqual([80]);
    const agg = await rows(`SELECT avg(action[1]) AS m, min(action[6]) AS lo, max("observation.state"[2]) AS hi, stddev_pop(action[3]) AS sd FROM read_parquet('${join(exported, 'data/chunk-000/file-000.parquet')}')`);
    expect(stats.action!.mean[0]).toBeCloseTo(agg[0]!.m as number, 4);
    expect(stats.action!.min[5]).toBeCloseTo(agg[0]!.lo as number, 4);
    expect(stats['observation.state']!.max[1]).toBeCloseTo(agg[0]!.hi as number, 4);
    expect(stats.action!.std[2]).toBeCloseTo(agg[0]!.sd as number, 3);
  });

  const hasPyarrow = (() => {
    try {
      execFileSync('python3', ['-c', 'import pyarrow'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasPyarrow)('pyarrow (where installed) reads the data file with list<float> state and action', () => {
    const out = execFileSync('python3', ['-c', `import pyarrow.parquet as pq; t = pq.read_table('${join(exported, 'data/chunk-000/file-000.parquet')}'); print(t.schema.field('observation.state').type, t.schema.field('index').type, t.num_rows)`], { encoding: 'utf8' });
    expect(out.trim()).toBe('list<element: float> int64 80');
  });
});

describe('LeRobot units', () => {
  it('match LeRobot’s normalisation of the same servo ticks (degrees, −100…100, gripper 0…100, drive mode 1)', async () => {
    const cal = await loadCalibration(simCalibrationPath('so101', 'follower'));
    const spec = armProfile('so101', 'follower').joints;
    for (const j of spec) {
      const c = cal.joints[j.name]!;
      const ours = new JointConverter(j, c);
      const mid = (c.range_min + c.range_max) / 2;
      for (const t of [c.range_min, c.range_min + 100, Math.round(mid), c.range_max - 7, c.range_max]) {
        const u = ours.toUnits(t);
        const deg = new LeRobotJointUnits(j.name, c, 'degrees');
        const rng = new LeRobotJointUnits(j.name, c, 'range_m100_100');
        if (j.kind === 'gripper') {
          expect(deg.toLeRobot(u)).toBeCloseTo(((t - c.range_min) / (c.range_max - c.range_min)) * 100, 9);
        } else {
          expect(deg.toLeRobot(u)).toBeCloseTo(((t - mid) * 360) / 4095, 9);
          expect(rng.toLeRobot(u)).toBeCloseTo(((t - c.range_min) / (c.range_max - c.range_min)) * 200 - 100, 9);
        }
        expect(deg.fromLeRobot(deg.toLeRobot(u))).toBeCloseTo(u, 12);
        expect(rng.fromLeRobot(rng.toLeRobot(u))).toBeCloseTo(u, 12);
      }
    }
    const inverted = { ...cal.joints.elbow_flex!, drive_mode: 1 as const };
    const t = inverted.range_min + 300;
    const u = new JointConverter(spec[2]!, inverted).toUnits(t);
    expect(new LeRobotJointUnits('elbow_flex', inverted, 'range_m100_100').toLeRobot(u)).toBeCloseTo(-(((t - inverted.range_min) / (inverted.range_max - inverted.range_min)) * 200 - 100), 9);
    expect(new LeRobotJointUnits('elbow_flex', inverted, 'degrees').toLeRobot(u)).toBeCloseTo(((t - (inverted.range_min + inverted.range_max) / 2) * 360) / 4095, 9); // LeRobot's degrees ignore the drive mode
  });
});

describe('round trip: record (sim) → export lerobot → import lerobot', () => {
  it('gives back the same states, actions, episode boundaries, outcomes and returns (|error| ≤ 1e-5 rad)', async () => {
    const ds = join(dir, 'roundtrip');
    const back = join(dir, 'roundtrip.mcap');
    await exportLeRobot([recorded], ds);
    const r = await importLeRobot(ds, back);
    expect(r).toMatchObject({ episodes: 3, fps: 50, units: 'degrees', arm: 'so101' });
    const a = await loadDataset([recorded]);
    const b = await loadDataset([back]);
    expect(b.layout).toEqual(a.layout);
    expect(b.episodes.map((e) => [e.index, e.length, e.outcome, e.operator])).toEqual(a.episodes.map((e) => [e.index, e.length, e.outcome, e.operator]));
    let maxErr = 0;
    a.episodes.forEach((e, i) => {
      const f = b.episodes[i]!;
      for (let k = 0; k < e.observations.length; k++) maxErr = Math.max(maxErr, Math.abs(e.observations[k]! - f.observations[k]!));
      for (let k = 0; k < e.actions.length; k++) maxErr = Math.max(maxErr, Math.abs(e.actions[k]! - f.actions[k]!));
      expect(f.return!).toBeCloseTo(e.return!, 4);
    });
    expect(maxErr).toBeLessThanOrEqual(1e-5);
    const rec = await readRecording(back);
    expect(rec.metadata.get('armbridge')?.get('follower_calibration')).toBe((await readRecording(recorded)).metadata.get('armbridge')?.get('follower_calibration'));
    const eps = episodesOf(rec);
    expect(eps.every((e) => e.endNs !== undefined && e.endNs > e.startNs)).toBe(true);
  });

  it('keeps the return when a cycle lost its state read: its reward goes to the next frame', async () => {
    const path = fresh('gap') + '.mcap';
    const cal = await loadCalibration(simCalibrationPath('so101', 'follower'));
    const names = armProfile('so101', 'follower').joints.map((j) => j.name);
    const r = await Recorder.create({ path }, { joint_names: names.join(','), rate_hz: '10', arm: 'so101', follower_calibration: JSON.stringify(cal) });
    const fol = await r.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
    const act = await r.topic('/action', 'sensor_msgs/msg/JointState');
    const ev = await r.topic('/episode', 'std_msgs/msg/String');
    const rew = await r.topic('/reward', 'std_msgs/msg/Float64');
    const js = (t: bigint, v: number) => ({ header: { stamp: rosTime(t), frame_id: '' }, name: names, position: [v, 0, 0, 0, 0, 0.5], velocity: [], effort: [] });
    r.log(ev, { data: JSON.stringify({ event: 'start', episode: 0 }) }, 100_000_000n);
    for (let k = 0; k < 5; k++) {
      const t = BigInt(100_000_000 + k * 100_000_000);
      if (k !== 2) r.log(fol, js(t, k * 0.1), t); // cycle 2: the follower read failed
      r.log(act, js(t, k * 0.1), t);
      r.log(rew, { data: -(k + 1) }, t);
    }
    r.log(ev, { data: JSON.stringify({ event: 'end', episode: 0 }) }, 500_000_000n);
    await r.close();
    const ds = fresh('gap');
    const rep = await exportLeRobot([path], ds);
    expect(rep).toMatchObject({ frames: 4, droppedCycles: 1 });
    const got = await rows(`SELECT "next.reward" AS r FROM read_parquet('${join(ds, 'data/chunk-000/file-000.parquet')}') ORDER BY "index"`);
    expect(got.map((x) => x.r)).toEqual([-1, -2, -3 - 4, -5]);
    const back = await loadDataset([await importLeRobot(ds, `${ds}.mcap`).then((x) => x.out)], { observation: ['follower.position'] });
    expect(back.episodes[0]!.return).toBeCloseTo(-15, 6);
  });

  it('round-trips a Koch recording in its default −100…100 units (robot_type koch_follower)', async () => {
    const src = fresh('koch') + '.mcap';
    await rollout({ arm: 'koch', seed: 2, episodes: 2, episodeS: 0.5, rateHz: 20, driver: { kind: 'operator', mix: { expert: 1 } }, out: src });
    const ds = fresh('koch');
    const rep = await exportLeRobot([src], ds);
    expect(rep).toMatchObject({ robotType: 'koch_follower', units: 'range_m100_100' });
    const state = await rows(`SELECT max(abs(s)) AS m FROM (SELECT unnest("observation.state"[1:5]) AS s FROM read_parquet('${join(ds, 'data/chunk-000/file-000.parquet')}'))`);
    expect(state[0]!.m as number).toBeLessThanOrEqual(100);
    const back = `${ds}.mcap`;
    expect(await importLeRobot(ds, back)).toMatchObject({ arm: 'koch', units: 'range_m100_100' });
    const a = await loadDataset([src]);
    const b = await loadDataset([back]);
    const err = Math.max(...a.episodes.flatMap((e, i) => Array.from(e.actions, (v, k) => Math.abs(v - b.episodes[i]!.actions[k]!))));
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('round-trips −100…100 units too', async () => {
    const ds = join(dir, 'roundtrip-range');
    await exportLeRobot([fast], ds, { units: 'range_m100_100' });
    const back = join(dir, 'roundtrip-range.mcap');
    await importLeRobot(ds, back);
    const a = await loadDataset([fast]);
    const b = await loadDataset([back]);
    const err = Math.max(...a.episodes.flatMap((e, i) => Array.from(e.actions, (v, k) => Math.abs(v - b.episodes[i]!.actions[k]!))));
    expect(err).toBeLessThanOrEqual(1e-5);
  });
});

describe('export lerobot after a forced merge', () => {
  it('converts each episode with the calibration of the recording it came from', async () => {
    // recorded2 as if made with another calibration (elbow_flex's range 200 ticks wider). Frame 15:
    // the elbow has left the middle of its range by then (near it, both calibrations give about 0).
    const src = await readRecording(recorded2);
    const cal = JSON.parse(src.metadata.get('armbridge')!.get('follower_calibration')!) as { joints: Record<string, { range_min: number; range_max: number }> };
    cal.joints.elbow_flex!.range_min -= 100;
    cal.joints.elbow_flex!.range_max += 100;
    const other = join(dir, 'other-cal.mcap');
    const meta = new Map(src.metadata);
    meta.set('armbridge', new Map([...src.metadata.get('armbridge')!, ['follower_calibration', JSON.stringify(cal)]]));
    await writeRecordingAtomic(other, { profile: src.profile, library: src.library, metadata: meta, channels: channelsOf(src), messages: src.messages });
    const merged = join(dir, 'merged-forced.mcap');
    await expect(mergeRecordings([recorded, other], merged)).rejects.toThrow(/calibration/);
    await mergeRecordings([recorded, other], merged, { force: true });
    const ds = join(dir, 'merged-forced');
    await exportLeRobot([merged], ds, { units: 'range_m100_100' });
    const original = await loadDataset([merged]);
    const got = await rows(`SELECT episode_index AS e, "observation.state"[3] AS s FROM read_parquet('${join(ds, 'data/chunk-000/file-000.parquet')}') WHERE frame_index = 15 ORDER BY e`);
    const first = JSON.parse((await readRecording(recorded)).metadata.get('armbridge')!.get('follower_calibration')!) as Parameters<typeof jointUnitsFor>[0];
    const expected = original.episodes.map((e) => jointUnitsFor(e.index < 3 ? first : (cal as unknown as Parameters<typeof jointUnitsFor>[0])).toLeRobot(e.observations[15 * 9 + 2]!));
    expect(got.map((g) => g.s as number).map((v) => Math.round(v * 1e3))).toEqual(expected.map((v) => Math.round(v * 1e3)));
    expect(expected[3]).not.toBeCloseTo(jointUnitsFor(first).toLeRobot(original.episodes[3]!.observations[15 * 9 + 2]!), 2);
  });
});

function jointUnitsFor(cal: { joints: Record<string, { model: 'sts3215'; drive_mode: 0 | 1; range_min: number; range_max: number; id: number; homing_offset: number }> }) {
  return new LeRobotJointUnits('elbow_flex', cal.joints.elbow_flex, 'range_m100_100');
}

describe('import lerobot: a dataset written by another Parquet writer (DuckDB, snappy)', () => {
  it('reads state/action in degrees, episode boundaries from episode_index, and ignores video features', async () => {
    const d = fresh('duck');
    await mkdir(join(d, 'meta'), { recursive: true });
    await mkdir(join(d, 'data/chunk-000'), { recursive: true });
    const names = ['shoulder_pan.pos', 'shoulder_lift.pos', 'elbow_flex.pos', 'wrist_flex.pos', 'wrist_roll.pos', 'gripper.pos'];
    const info = {
      codebase_version: 'v3.0', robot_type: 'so101_follower', total_episodes: 2, total_frames: 5, total_tasks: 1, chunks_size: 1000, data_files_size_in_mb: 100, video_files_size_in_mb: 500, fps: 30,
      splits: { train: '0:2' }, data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet', video_path: VIDEO_PATH,
      features: {
        action: { dtype: 'float32', shape: [6], names }, 'observation.state': { dtype: 'float32', shape: [6], names },
        'observation.images.front': { dtype: 'video', shape: [480, 640, 3], names: ['height', 'width', 'channels'] },
        timestamp: { dtype: 'float32', shape: [1], names: null }, frame_index: { dtype: 'int64', shape: [1], names: null }, episode_index: { dtype: 'int64', shape: [1], names: null }, index: { dtype: 'int64', shape: [1], names: null }, task_index: { dtype: 'int64', shape: [1], names: null },
      },
    };
    await writeFile(join(d, 'meta/info.json'), JSON.stringify(info));
    const file = join(d, 'data/chunk-000/file-000.parquet');
    await con.run(`COPY (SELECT [i * 10.0, -45, 90, 0, 0, 50]::FLOAT[] AS "observation.state", [i * 10.0 + 1, -45, 90, 0, 0, 60]::FLOAT[] AS action,
      (f / 30.0)::FLOAT AS timestamp, f::BIGINT AS frame_index, e::BIGINT AS episode_index, i::BIGINT AS "index", 0::BIGINT AS task_index
      FROM (SELECT i, CASE WHEN i < 3 THEN 0 ELSE 1 END AS e, CASE WHEN i < 3 THEN i ELSE i - 3 END AS f FROM range(5) t(i))) TO '${file}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
    const back = fresh('duck') + '.mcap';
    const r = await importLeRobot(d, back);
    expect(r).toMatchObject({ episodes: 2, frames: 5, fps: 30, units: 'degrees', ignoredFeatures: ['observation.images.front'] });
    // Without observation.environment_state the dataset trains on the joints alone, no --obs needed.
    const ds = await loadDataset([back]);
    expect(ds.layout.observation).toEqual([{ name: 'follower.position', size: 6 }]);
    expect(ds.episodes.map((e) => e.length)).toEqual([3, 2]);
    const k = (2 * Math.PI) / 4096;
    const deg = (v: number) => ((v * 4095) / 360) * k;
    expect(ds.episodes[0]!.observations[6]).toBeCloseTo(deg(10), 6); // frame 1, shoulder_pan 10°
    expect(ds.episodes[1]!.actions[0]).toBeCloseTo(deg(31), 5);
    expect(ds.episodes[0]!.observations[5]).toBeCloseTo(0.5, 6); // gripper 50 → 0.5
    expect(ds.episodes[0]!.actions[2]).toBeCloseTo(deg(90), 5);
  });
});

describe('bad input: clear errors, nothing left behind', () => {
  async function fakeDataset(info: unknown): Promise<string> {
    const d = fresh('bad');
    await mkdir(join(d, 'meta'), { recursive: true });
    await writeFile(join(d, 'meta/info.json'), JSON.stringify(info));
    return d;
  }
  const base = JSON.parse(JSON.stringify({ codebase_version: 'v3.0', robot_type: 'so101_follower', total_episodes: 1, total_frames: 10, total_tasks: 1, chunks_size: 1000, data_files_size_in_mb: 100, fps: 30, splits: { train: '0:1' }, data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet', video_path: VIDEO_PATH, features: { timestamp: { dtype: 'float32', shape: [1], names: null }, frame_index: { dtype: 'int64', shape: [1], names: null }, episode_index: { dtype: 'int64', shape: [1], names: null }, index: { dtype: 'int64', shape: [1], names: null }, task_index: { dtype: 'int64', shape: [1], names: null } } })) as { features: Record<string, unknown> } & Record<string, unknown>;

  it('a dataset with images only: NoStateActionError naming its features, no output', async () => {
    const d = await fakeDataset({ ...base, features: { ...base.features, 'observation.images.wrist': { dtype: 'video', shape: [480, 640, 3], names: ['height', 'width', 'channels'] } } });
    const out = fresh('img') + '.mcap';
    const err = await importLeRobot(d, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoStateActionError);
    expect((err as Error).message).toMatch(/observation\.images\.wrist.*images and videos are out of scope/);
    await expect(stat(out)).rejects.toThrow();
  });

  it('missing meta/info.json, an older layout, and an invalid info.json', async () => {
    const empty = fresh('empty');
    await mkdir(empty);
    await expect(importLeRobot(empty, fresh('x') + '.mcap')).rejects.toBeInstanceOf(InfoMissingError);
    await expect(importLeRobot(join(dir, 'nowhere'), fresh('x') + '.mcap')).rejects.toBeInstanceOf(InfoMissingError);
    await expect(importLeRobot(await fakeDataset({ ...base, codebase_version: 'v2.1' }), fresh('x') + '.mcap')).rejects.toBeInstanceOf(UnsupportedVersionError);
    const bad = await importLeRobot(await fakeDataset({ ...base, fps: 'fast' }), fresh('x') + '.mcap').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InfoInvalidError);
    expect((bad as Error).message).toMatch(/fps/);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('data that disagree with meta/info.json: DataMismatchError, no output', async () => {
    const d = fresh('short');
    await exportLeRobot([fast10], d);
    const info = JSON.parse(await readFile(join(d, 'meta/info.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(d, 'meta/info.json'), JSON.stringify({ ...info, total_frames: 999 }));
    const out = fresh('short') + '.mcap';
    await expect(importLeRobot(d, out)).rejects.toBeInstanceOf(DataMismatchError);
    await expect(stat(out)).rejects.toThrow();
    await writeFile(join(d, 'meta/info.json'), JSON.stringify(info));
    await con.run(`COPY (SELECT 0::BIGINT AS episode_index, 99::BIGINT AS length) TO '${join(d, 'meta/episodes/chunk-000/file-000.parquet')}' (FORMAT PARQUET)`);
    await expect(importLeRobot(d, out)).rejects.toThrow(/episode 0 has 99 frames, the data files hold 10/);
    await expect(stat(out)).rejects.toThrow();
    expect(await leftovers(dir)).toEqual([]);
  });

  it('export: mismatched fps across files, an existing folder, a parent that cannot be made, a recording without calibration', async () => {
    const out = fresh('mixed');
    const e = await exportLeRobot([fast, fast10], out).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateMismatchError);
    expect((e as Error).message).toMatch(/20 Hz.*10 Hz/);
    await expect(stat(out)).rejects.toThrow();
    await expect(exportLeRobot([fast], exported)).rejects.toBeInstanceOf(DatasetExistsError);
    // A missing parent folder is made (datasets/ on a fresh clone); one that cannot be (a file in the way) is refused.
    const inTheWay = fresh('file');
    await writeFile(inTheWay, 'not a folder');
    await expect(exportLeRobot([fast], join(inTheWay, 'ds'))).rejects.toBeInstanceOf(DatasetWriteError);
    await rm(inTheWay);
    const bare = fresh('bare') + '.mcap';
    const r = await Recorder.create({ path: bare }, { joint_names: 'shoulder_pan,gripper', rate_hz: '10', arm: 'so101' });
    const fol = await r.topic('/follower/joint_states', 'sensor_msgs/msg/JointState');
    const act = await r.topic('/action', 'sensor_msgs/msg/JointState');
    const ev = await r.topic('/episode', 'std_msgs/msg/String');
    const js = (t: bigint) => ({ header: { stamp: rosTime(t), frame_id: '' }, name: ['shoulder_pan', 'gripper'], position: [0.1, 0.5], velocity: [], effort: [] });
    r.log(ev, { data: JSON.stringify({ event: 'start', episode: 0 }) }, 1n);
    for (let k = 0; k < 3; k++) {
      r.log(fol, js(BigInt(10 + k * 100)), BigInt(10 + k * 100));
      r.log(act, js(BigInt(10 + k * 100)), BigInt(10 + k * 100));
    }
    r.log(ev, { data: JSON.stringify({ event: 'end', episode: 0 }) }, 400n);
    await r.close();
    await expect(exportLeRobot([bare], fresh('bare'))).rejects.toBeInstanceOf(CalibrationMissingError);
    expect(await leftovers(dir)).toEqual([]);
  });
});

describe('armbridge export / import (CLI)', () => {
  it('exports and imports through the command line', async () => {
    let text = '';
    let err = '';
    const io = {
      stdout: new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }) as unknown as typeof process.stdout,
      stderr: new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }) as unknown as typeof process.stderr,
    };
    const ds = fresh('cli');
    expect(await main(['export', 'lerobot', fast, '--out', ds, '--task', 'reach'], io)).toBe(0);
    expect(text).toMatch(/LeRobotDataset v3\.0 \(so101_follower, 20 fps, degrees\): 4 episodes, 80 frames/);
    expect(await main(['import', 'lerobot', ds, '--out', `${ds}.mcap`], io)).toBe(0);
    expect(text).toMatch(/4 episodes, 80 frames/);
    expect(await main(['import', 'lerobot', join(dir, 'nowhere'), '--out', fresh('x')], io)).toBe(1);
    expect(err).toMatch(/\[LEROBOT_INFO_MISSING\]/);
    expect(await main(['export', 'csv', fast, '--out', fresh('x')], io)).toBe(2);
  });

  it('imports a −100…100 dataset without armbridge’s note through a LeRobot calibration file', async () => {
    const io = {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }) as unknown as typeof process.stdout,
      stderr: new Writable({ write: (_c, _e, cb) => cb() }) as unknown as typeof process.stderr,
    };
    const ds = fresh('lr-range');
    await exportLeRobot([fast], ds, { units: 'range_m100_100' });
    await rm(join(ds, 'meta/armbridge.json')); // as LeRobot itself would have written it
    const lrCal = join(dir, 'so101_follower_lerobot.json');
    await writeFile(lrCal, JSON.stringify(toLeRobotCalibration(await loadCalibration(simCalibrationPath('so101', 'follower')))));
    await expect(importLeRobot(ds, fresh('x') + '.mcap', { units: 'range_m100_100' })).rejects.toBeInstanceOf(CalibrationMissingError);
    const back = fresh('lr-range') + '.mcap';
    expect(await main(['import', 'lerobot', ds, '--out', back, '--units', 'range_m100_100', '--calibration', lrCal, '--arm', 'so101'], io)).toBe(0);
    const a = await loadDataset([fast]);
    const b = await loadDataset([back]);
    expect(b.episodes.map((e) => e.length)).toEqual(a.episodes.map((e) => e.length));
    expect(b.episodes.every((e) => e.outcome === 'unlabelled')).toBe(true); // outcomes live in armbridge's note only
    const err = Math.max(...a.episodes.flatMap((e, i) => Array.from(e.observations, (v, k) => Math.abs(v - b.episodes[i]!.observations[k]!))));
    expect(err).toBeLessThanOrEqual(1e-5);
  });
});

describe('import lerobot: a state-only dataset (no action column, e.g. kinesthetic demonstrations)', () => {
  it('imports the states without /action and trains on labels derived from them', async () => {
    // A dataset as LeRobot would hold one recorded without a leader: our export with `action` removed.
    const d = fresh('state-only');
    await exportLeRobot([fast], d, { task: 'Reach the target and hold' });
    const infoPath = join(d, 'meta/info.json');
    const info = JSON.parse(await readFile(infoPath, 'utf8')) as { features: Record<string, unknown> };
    delete info.features.action;
    await writeFile(infoPath, JSON.stringify(info));
    const data = join(d, 'data/chunk-000/file-000.parquet');
    const tmp = `${data}.full`;
    await con.run(`COPY (SELECT * FROM read_parquet('${data}')) TO '${tmp}' (FORMAT PARQUET)`);
    await con.run(`COPY (SELECT * EXCLUDE (action) FROM read_parquet('${tmp}')) TO '${data}' (FORMAT PARQUET)`);
    await rm(tmp);
    expect(Object.keys(await types(data))).not.toContain('action');

    const back = fresh('state-only') + '.mcap';
    const r = await importLeRobot(d, back);
    expect(r.topics).not.toContain('/action');
    expect(r.topics).toContain('/follower/joint_states');
    const original = await loadDataset([fast]);
    const ds = await loadDataset([back]);
    expect(ds.labels).toMatchObject({ source: 'derived', derivedEpisodes: 4, recordedEpisodes: 0 });
    expect(ds.episodes.map((e) => e.length)).toEqual(original.episodes.map((e) => e.length));
    // The states come back (float32 storage); the labels are the states 2 steps ahead.
    const e = ds.episodes[0]!;
    for (let k = 0; k < 6; k++) expect(e.observations[k]).toBeCloseTo(original.episodes[0]!.observations[k]!, 5);
    for (let j = 0; j < 6; j++) expect(e.actions[j]).toBe(e.observations[2 * 9 + j]);

    const out = fresh('state-only-model');
    const t = await main(['train', back, '--out', out, '--epochs', '2', '--hidden', '16', '--select', 'off', '--backend', 'cpu', '--no-report'], { stdout: new Writable({ write: (_c, _e, cb) => cb() }) as unknown as typeof process.stdout, stderr: process.stderr });
    expect(t).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { actionLabels: { source: string; horizonSteps: number } };
    expect(summary.actionLabels).toMatchObject({ source: 'derived', horizonSteps: 2 });
  }, 60_000);
});

describe('export lerobot: a recording with episodes without /action (kinesthetic or stripped)', () => {
  it('writes the derived labels as action, says so in the report and meta/armbridge.json, and imports those episodes back as states only', async () => {
    const mixed = fresh('mixed') + '.mcap';
    await stripActions(fast, mixed, (e) => e % 2 === 1);
    const d = fresh('mixed-ds');
    const r = await exportLeRobot([mixed], d);
    expect(r.actionLabels).toMatchObject({ source: 'mixed', recordedEpisodes: 2, derivedEpisodes: 2, horizonSteps: 2 });
    const meta = JSON.parse(await readFile(join(d, 'meta/armbridge.json'), 'utf8')) as { episodes: { action_labels?: string }[]; action_label_horizon_steps?: number };
    expect(meta.episodes.map((e) => e.action_labels)).toEqual(['recorded', 'derived', 'recorded', 'derived']);
    expect(meta.action_label_horizon_steps).toBe(2);

    const back = fresh('mixed-back') + '.mcap';
    await importLeRobot(d, back);
    const a = await loadDataset([mixed]);
    const b = await loadDataset([back]);
    expect(b.labels).toMatchObject({ source: 'mixed', recordedEpisodes: 2, derivedEpisodes: 2 });
    expect(b.episodes.map((e) => e.labels)).toEqual(a.episodes.map((e) => e.labels));
    // An export of a recording with every /action keeps saying "recorded".
    const plain = await exportLeRobot([fast], fresh('plain-ds'));
    expect(plain.actionLabels).toMatchObject({ source: 'recorded', derivedEpisodes: 0 });
  }, 60_000);
});
