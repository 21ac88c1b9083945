/**
 * `armbridge export lerobot`: recordings → a LeRobotDataset v3.0 folder (layout and units in
 * lerobot-format.ts) that LeRobot's `LeRobotDataset(repo_id, root=DIR)` opens, so ACT or diffusion
 * can be trained on data recorded here.
 *
 * Per frame (one recorded cycle with state and action, as `loadDataset` aligns them):
 *   observation.state            follower joint positions, LeRobot units (degrees / −100…100; gripper 0…100)
 *   action                       the command sent (after safety), same units; for an episode recorded
 *                                without /action (kinesthetic, states only) the label `train` derives:
 *                                the follower's joints a fixed horizon ahead. The report and
 *                                meta/armbridge.json say which episodes hold derived labels, and
 *                                `import lerobot` brings those back as states only
 *   observation.environment_state the task's poses (m): the target's when every file recorded /target_pose;
 *                                 the object's then the goal's (6 values) when every file recorded /object_pose and /goal_pose
 *   next.reward                  the task's reward of the cycle, plus that of cycles since the previous
 *                                frame that have no frame (a failed state read), so an episode's
 *                                return is kept; 0 where none was recorded
 *   timestamp                    frame_index / fps: LeRobot assumes a constant rate, so measured times
 *                                are not carried; dropped cycles are counted in the report and in
 *                                meta/armbridge.json
 * Discarded episodes are left out. The folder is built beside the output and renamed into place
 * when complete; a failure leaves nothing behind.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Calibration } from '../arm/calibration.ts';
import { InvalidArgumentError } from '../errors.ts';
import { ProfileMismatchError, RateMismatchError } from '../record/edit-errors.ts';
import { readRecording } from '../record/read.ts';
import { summariseLabels, DEFAULT_LABEL_HORIZON, type LabelSummary } from './action-labels.ts';
import { loadDataset, type Episode } from './load.ts';
import { CalibrationMissingError, DatasetExistsError, DatasetWriteError } from './lerobot-errors.ts';
import {
  ARMBRIDGE_META_PATH,
  CODEBASE_VERSION,
  DATA_PATH,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DATA_FILE_SIZE_IN_MB,
  DEFAULT_VIDEO_FILE_SIZE_IN_MB,
  defaultUnits,
  EPISODES_PATH,
  formatPath,
  INFO_PATH,
  jointUnits,
  leRobotInfoSchema,
  robotTypeOf,
  STATS_PATH,
  TASKS_PATH,
  type ArmbridgeMeta,
  type LeRobotFeature,
  type LeRobotInfo,
  type LeRobotUnits,
} from './lerobot-format.ts';
import { featureStats, STAT_NAMES, type FeatureStats } from './lerobot-stats.ts';
import { parquetBytes, type Column } from './parquet.ts';

export interface ExportOptions {
  /** Natural-language task of every episode (LeRobot's `task`). */
  readonly task?: string;
  /** Default: LeRobot's default for the arm (so101: degrees; koch: −100…100). */
  readonly units?: LeRobotUnits;
  /** Used for files that carry no follower calibration. */
  readonly calibration?: Calibration;
  readonly overwrite?: boolean;
  /** Largest data file before a new one is started (LeRobot's default 100 MB). */
  readonly dataFileSizeMb?: number;
}

export interface ExportReport {
  readonly out: string;
  readonly codebaseVersion: string;
  readonly robotType: string;
  readonly fps: number;
  readonly units: LeRobotUnits;
  readonly episodes: number;
  readonly frames: number;
  readonly droppedCycles: number;
  readonly dataFiles: number;
  readonly bytes: number;
  readonly features: string[];
  /** Which action labels the exported episodes hold (recorded /action, or derived from the states). */
  readonly actionLabels: LabelSummary;
}

export const DEFAULT_TASK = 'Teleoperated demonstration recorded with armbridge';

interface SourceFile {
  readonly path: string;
  readonly arm: string;
  readonly rateHz: number;
  readonly jointNames: string[];
  readonly calibration: Calibration | undefined;
  /** The pose topics it recorded (/target_pose, /object_pose, /goal_pose). */
  readonly poseTopics: ReadonlySet<string>;
  /** Episodes that came from another source in a forced merge: their own calibration (by episode index). */
  readonly episodeCalibrations: Map<number, Calibration>;
}

async function describeSource(path: string): Promise<SourceFile> {
  const rec = await readRecording(path);
  const meta = rec.metadata.get('armbridge') ?? new Map<string, string>();
  let calibration: Calibration | undefined;
  const calText = meta.get('follower_calibration');
  if (calText) {
    try {
      calibration = JSON.parse(calText) as Calibration;
    } catch {
      calibration = undefined;
    }
  }
  // A forced merge keeps each source's calibration in `armbridge.merge`: its episodes are converted with it.
  const episodeCalibrations = new Map<number, Calibration>();
  const sources = rec.metadata.get('armbridge.merge')?.get('sources');
  if (sources) {
    try {
      for (const src of JSON.parse(sources) as { episodes: [number, number][]; follower_calibration?: string }[]) {
        if (!src.follower_calibration) continue;
        const cal = JSON.parse(src.follower_calibration) as Calibration;
        for (const [, to] of src.episodes) episodeCalibrations.set(to, cal);
      }
    } catch {
      episodeCalibrations.clear();
    }
  }
  return {
    path,
    episodeCalibrations,
    arm: meta.get('arm') ?? '',
    rateHz: Number(meta.get('rate_hz') ?? NaN),
    jointNames: (meta.get('joint_names') ?? '').split(',').filter(Boolean),
    calibration,
    poseTopics: new Set([...rec.channels.values()].map((c) => c.topic).filter((t) => t === '/target_pose' || t === '/object_pose' || t === '/goal_pose')),
  };
}

/** Builds the dataset in a temporary folder beside `out`, then renames it into place. */
export async function exportLeRobot(files: readonly string[], out: string, options: ExportOptions = {}): Promise<ExportReport> {
  if (files.length === 0) throw new InvalidArgumentError('export needs at least one recording');
  const exists = await stat(out).then(
    () => true,
    () => false,
  );
  if (exists && !options.overwrite) throw new DatasetExistsError(out);
  const sources: SourceFile[] = [];
  for (const f of files) sources.push(await describeSource(f));
  const first = sources[0]!;
  const rates = sources.map((s) => ({ path: s.path, rateHz: String(s.rateHz) }));
  if (new Set(rates.map((r) => r.rateHz)).size > 1) throw new RateMismatchError(rates);
  if (!Number.isInteger(first.rateHz) || first.rateHz <= 0) throw new RateMismatchError(rates);
  for (const s of sources.slice(1)) {
    if (s.arm !== first.arm) throw new ProfileMismatchError(first.path, s.path, 'arm type');
    if (s.jointNames.join() !== first.jointNames.join()) throw new ProfileMismatchError(first.path, s.path, 'joint list');
  }
  const units = options.units ?? defaultUnits(first.arm);
  // The environment state: pick-and-place's object and goal, else the reach target, when every file has them.
  const every = (t: string) => sources.every((s) => s.poseTopics.has(t));
  const envPoses = every('/object_pose') && every('/goal_pose') ? ['object', 'goal'] : every('/target_pose') ? ['target'] : [];
  const envSize = 3 * envPoses.length;
  const hasTarget = envSize > 0;
  const fps = first.rateHz;
  const names = first.jointNames;
  const n = names.length;

  // Frames, in episode order.
  const eps: { ep: Episode; source: SourceFile; dropped: number; rewards: Float32Array }[] = [];
  for (const s of sources) {
    const calibration = s.calibration ?? options.calibration;
    if (!calibration) throw new CalibrationMissingError(s.path);
    const ds = await loadDataset([s.path], { observation: ['follower.position', ...envPoses.map((p) => `${p}.position`)] });
    for (const ep of ds.episodes) {
      const periodNs = 1e9 / fps;
      let dropped = 0;
      for (let i = 1; i < ep.timesNs.length; i++) {
        const dt = Number(ep.timesNs[i]! - ep.timesNs[i - 1]!);
        if (dt > 1.5 * periodNs) dropped += Math.round(dt / periodNs) - 1;
      }
      eps.push({ ep, source: { ...s, calibration: s.episodeCalibrations.get(ep.index) ?? calibration }, dropped, rewards: ep.rewards });
    }
  }
  const totalFrames = eps.reduce((a, e) => a + e.ep.length, 0);
  // Episodes recorded without /action carry the labels loadDataset derived (its default horizon).
  const derivedEpisodes = eps.filter((e) => e.ep.labels === 'derived').length;
  const actionLabels = summariseLabels(eps.length - derivedEpisodes, derivedEpisodes, DEFAULT_LABEL_HORIZON, fps);
  const obsSize = n + envSize;
  const state = new Float32Array(totalFrames * n);
  const action = new Float32Array(totalFrames * n);
  const env = new Float32Array(totalFrames * envSize);
  const reward = new Float32Array(totalFrames);
  const timestamp = new Float32Array(totalFrames);
  const frameIndex = new Float64Array(totalFrames);
  const episodeIndex = new Float64Array(totalFrames);
  let row = 0;
  eps.forEach(({ ep, source, rewards }, e) => {
    const conv = jointUnits(names, source.calibration, units);
    for (let k = 0; k < ep.length; k++, row++) {
      for (let j = 0; j < n; j++) {
        state[row * n + j] = conv[j]!.toLeRobot(ep.observations[k * obsSize + j]!);
        action[row * n + j] = conv[j]!.toLeRobot(ep.actions[k * n + j]!);
      }
      if (hasTarget) env.set(ep.observations.subarray(k * obsSize + n, k * obsSize + n + envSize), row * envSize);
      reward[row] = rewards[k]!;
      timestamp[row] = k / fps;
      frameIndex[row] = k;
      episodeIndex[row] = e;
    }
  });

  const posNames = names.map((j) => `${j}.pos`);
  const features: Record<string, LeRobotFeature> = {
    action: { dtype: 'float32', shape: [n], names: posNames },
    'observation.state': { dtype: 'float32', shape: [n], names: posNames },
    ...(hasTarget ? { 'observation.environment_state': { dtype: 'float32', shape: [envSize], names: envPoses.flatMap((p) => [`${p}.x`, `${p}.y`, `${p}.z`]) } } : {}),
    'next.reward': { dtype: 'float32', shape: [1], names: null },
    timestamp: { dtype: 'float32', shape: [1], names: null },
    frame_index: { dtype: 'int64', shape: [1], names: null },
    episode_index: { dtype: 'int64', shape: [1], names: null },
    index: { dtype: 'int64', shape: [1], names: null },
    task_index: { dtype: 'int64', shape: [1], names: null },
  };
  const values: Record<string, { data: ArrayLike<number>; size: number }> = {
    action: { data: action, size: n },
    'observation.state': { data: state, size: n },
    ...(hasTarget ? { 'observation.environment_state': { data: env, size: envSize } } : {}),
    'next.reward': { data: reward, size: 1 },
    timestamp: { data: timestamp, size: 1 },
    frame_index: { data: frameIndex, size: 1 },
    episode_index: { data: episodeIndex, size: 1 },
    index: { data: Float64Array.from({ length: totalFrames }, (_, i) => i), size: 1 },
    task_index: { data: new Float64Array(totalFrames), size: 1 },
  };

  // Data files: whole episodes per file, a new file when the estimate passes the size limit.
  const bytesPerFrame = Object.values(values).reduce((a, v) => a + v.size * 8, 0);
  const limitFrames = Math.max(1, Math.floor(((options.dataFileSizeMb ?? DEFAULT_DATA_FILE_SIZE_IN_MB) * 1024 * 1024) / bytesPerFrame));
  const fileOf: { chunk: number; file: number; from: number; to: number }[] = [];
  let chunk = 0;
  let fileIdx = 0;
  let from = 0;
  let inFile = 0;
  for (const { ep } of eps) {
    if (inFile > 0 && inFile + ep.length > limitFrames) {
      fileIdx++;
      if (fileIdx === DEFAULT_CHUNK_SIZE) {
        chunk++;
        fileIdx = 0;
      }
      inFile = 0;
    }
    fileOf.push({ chunk, file: fileIdx, from, to: from + ep.length });
    from += ep.length;
    inFile += ep.length;
  }

  const slice = (name: string, a: number, b: number): unknown[] => {
    const v = values[name]!;
    const dtype = features[name]!.dtype;
    const out: unknown[] = [];
    for (let r = a; r < b; r++) {
      if (v.size === 1 && features[name]!.shape[0] === 1) out.push(dtype === 'int64' ? BigInt(v.data[r]!) : v.data[r]!);
      else out.push(Array.from({ length: v.size }, (_, c) => v.data[r * v.size + c]!));
    }
    return out;
  };
  const kindOf = (name: string): Column['kind'] => {
    const f = features[name]!;
    const base = f.dtype === 'int64' ? 'int64' : f.dtype === 'float64' ? 'float64' : 'float32';
    return f.shape[0] === 1 ? base : (`${base}[]` as Column['kind']);
  };

  const info: LeRobotInfo = {
    codebase_version: CODEBASE_VERSION,
    robot_type: robotTypeOf(first.arm),
    total_episodes: eps.length,
    total_frames: totalFrames,
    total_tasks: 1,
    chunks_size: DEFAULT_CHUNK_SIZE,
    data_files_size_in_mb: options.dataFileSizeMb ?? DEFAULT_DATA_FILE_SIZE_IN_MB,
    video_files_size_in_mb: DEFAULT_VIDEO_FILE_SIZE_IN_MB,
    fps,
    splits: { train: `0:${eps.length}` },
    data_path: DATA_PATH,
    video_path: null,
    features,
  };
  leRobotInfoSchema.parse(info); // our own output must pass the schema we hold others to

  const stats: Record<string, FeatureStats> = {};
  for (const [name, v] of Object.entries(values)) stats[name] = featureStats(v.data, v.size);

  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let bytes = 0;
  const put = async (rel: string, data: Uint8Array | string) => {
    const p = join(tmp, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  };
  try {
    // The dataset's parent folder is made as record makes its output's (datasets/ on a fresh clone).
    await mkdir(dirname(tmp), { recursive: true });
    await mkdir(tmp);
    // data/
    const groups = new Map<string, { chunk: number; file: number; from: number; to: number }>();
    for (const f of fileOf) {
      const key = `${f.chunk}/${f.file}`;
      const g = groups.get(key);
      if (g) g.to = f.to;
      else groups.set(key, { ...f });
    }
    for (const g of groups.values()) {
      const columns = Object.keys(features).map((name) => ({ name, kind: kindOf(name), data: slice(name, g.from, g.to) }));
      await put(formatPath(DATA_PATH, { chunk_index: g.chunk, file_index: g.file }), parquetBytes(columns));
    }
    // meta/episodes/
    const epStats = eps.map((_, e) => {
      const a = fileOf[e]!.from;
      const b = fileOf[e]!.to;
      return Object.fromEntries(Object.entries(values).map(([name, v]) => [name, featureStats(Array.prototype.slice.call(v.data, a * v.size, b * v.size) as number[], v.size)]));
    });
    const task = options.task ?? DEFAULT_TASK;
    const epColumns: Column[] = [
      { name: 'episode_index', kind: 'int64', data: eps.map((_, e) => BigInt(e)) },
      { name: 'tasks', kind: 'string[]', data: eps.map(() => [task]) },
      { name: 'length', kind: 'int64', data: eps.map((x) => BigInt(x.ep.length)) },
      { name: 'data/chunk_index', kind: 'int64', data: fileOf.map((f) => BigInt(f.chunk)) },
      { name: 'data/file_index', kind: 'int64', data: fileOf.map((f) => BigInt(f.file)) },
      { name: 'dataset_from_index', kind: 'int64', data: fileOf.map((f) => BigInt(f.from)) },
      { name: 'dataset_to_index', kind: 'int64', data: fileOf.map((f) => BigInt(f.to)) },
      ...Object.keys(values).flatMap((name) =>
        STAT_NAMES.map(
          (s): Column =>
            s === 'count'
              ? { name: `stats/${name}/${s}`, kind: 'int64[]', data: epStats.map((st) => st[name]![s].map((x) => BigInt(x))) }
              : { name: `stats/${name}/${s}`, kind: 'float64[]', data: epStats.map((st) => st[name]![s]) },
        ),
      ),
      { name: 'meta/episodes/chunk_index', kind: 'int64', data: eps.map(() => 0n) },
      { name: 'meta/episodes/file_index', kind: 'int64', data: eps.map(() => 0n) },
    ];
    await put(formatPath(EPISODES_PATH, { chunk_index: 0, file_index: 0 }), parquetBytes(epColumns));
    // meta/tasks.parquet: pandas reads `task` back as the index (LeRobot looks tasks up by it).
    await put(TASKS_PATH, parquetBytes([{ name: 'task_index', kind: 'int64', data: [0n] }, { name: 'task', kind: 'string', data: [task] }], { pandas: pandasIndexMetadata() }));
    await put(STATS_PATH, JSON.stringify(stats, null, 4));
    await put(INFO_PATH, JSON.stringify(info, null, 4));
    const meta: ArmbridgeMeta = {
      format: 'armbridge.lerobot/1',
      arm: first.arm,
      units,
      joint_names: names,
      calibration: first.calibration ?? options.calibration,
      episodes: eps.map(({ ep, source, dropped }, e) => ({
        episode_index: e,
        source: source.path,
        source_episode: ep.index,
        outcome: ep.outcome,
        return: ep.return ?? null,
        operator: ep.operator ?? null,
        dropped_cycles: dropped,
        action_labels: ep.labels ?? 'recorded',
      })),
      ...(actionLabels.horizonSteps !== undefined ? { action_label_horizon_steps: actionLabels.horizonSteps } : {}),
    };
    await put(ARMBRIDGE_META_PATH, JSON.stringify(meta, null, 2));
    if (exists) {
      const old = `${tmp}.old`;
      await rename(out, old);
      try {
        await rename(tmp, out);
      } catch (e) {
        await rename(old, out).catch(() => undefined);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw new DatasetWriteError(out, (e as Error).message, { cause: e });
  }
  return {
    out,
    codebaseVersion: CODEBASE_VERSION,
    robotType: info.robot_type ?? '',
    fps,
    units,
    episodes: eps.length,
    frames: totalFrames,
    droppedCycles: eps.reduce((a, e) => a + e.dropped, 0),
    dataFiles: new Set(fileOf.map((f) => `${f.chunk}/${f.file}`)).size,
    bytes,
    features: Object.keys(features),
    actionLabels,
  };
}

/** pandas' key/value metadata for a frame indexed by `task` with one column `task_index`. */
function pandasIndexMetadata(): string {
  return JSON.stringify({
    index_columns: ['task'],
    column_indexes: [{ name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } }],
    columns: [
      { name: 'task_index', field_name: 'task_index', pandas_type: 'int64', numpy_type: 'int64', metadata: null },
      { name: 'task', field_name: 'task', pandas_type: 'unicode', numpy_type: 'object', metadata: null },
    ],
    creator: { library: 'armbridge', version: '0.1.0' },
    pandas_version: '2.2.3',
  });
}
