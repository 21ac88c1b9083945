/**
 * The LeRobotDataset on-disk layout that armbridge writes and reads: **codebase version "v3.0"**
 * (huggingface/lerobot `CODEBASE_VERSION = "v3.0"`, the layout of `lerobot/datasets` since the
 * v3.0 release of September 2025 and still current in 2026), state/action part only (no videos):
 *
 *   meta/info.json                          codebase_version, robot_type, totals, chunks_size,
 *                                           data_files_size_in_mb, video_files_size_in_mb, fps,
 *                                           splits {"train": "0:N"}, data_path, video_path, features
 *   meta/stats.json                         per feature: min, max, mean, std, count, q01…q99
 *   meta/tasks.parquet                      task (the pandas index) → task_index
 *   meta/episodes/chunk-000/file-000.parquet  one row per episode: episode_index, tasks, length,
 *                                           data/chunk_index, data/file_index, dataset_from_index,
 *                                           dataset_to_index, meta/episodes/…, stats/<feature>/<stat>
 *   data/chunk-000/file-000.parquet         one row per frame: the features' columns, exactly
 *   meta/armbridge.json                     (ours; LeRobot ignores it) units, calibration and the
 *                                           episodes' outcomes, returns and sources, for import
 *
 * Facts carried over from LeRobot (no code): the default features (timestamp float32, frame_index,
 * episode_index, index, task_index int64, all shape [1]); the path templates; `chunks_size` 1000 and
 * `data_files_size_in_mb` 100 defaults; the so101/koch follower motor names with a `.pos` suffix;
 * the motor normalisation of `MotorsBus._normalize` (see ARMS.md §3): DEGREES
 * `(t − mid)·360/4095` (no clamp, drive mode ignored), RANGE_M100_100 `(t − min)/(max − min)·200 − 100`
 * (negated for drive mode 1), RANGE_0_100 for grippers `(t − min)/(max − min)·100` (`100 − v` for
 * drive mode 1). LeRobot's so101 follower uses degrees by default (`use_degrees = True` since
 * Feb 2026), the Koch follower −100…100 (`use_degrees = False`).
 */
import { z } from 'zod';
import type { Calibration } from '../arm/calibration.ts';
import { SERVO_MODELS } from '../protocol/index.ts';

export const CODEBASE_VERSION = 'v3.0';
export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_DATA_FILE_SIZE_IN_MB = 100;
export const DEFAULT_VIDEO_FILE_SIZE_IN_MB = 500;
export const INFO_PATH = 'meta/info.json';
export const STATS_PATH = 'meta/stats.json';
export const TASKS_PATH = 'meta/tasks.parquet';
export const ARMBRIDGE_META_PATH = 'meta/armbridge.json';
export const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const EPISODES_PATH = 'meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';

/** Formats one of LeRobot's path templates (`{chunk_index:03d}` style). */
export function formatPath(template: string, values: Record<string, number | string>): string {
  return template.replace(/\{(\w+)(?::0?(\d+)d)?\}/g, (_m, key: string, width?: string) => {
    const v = values[key];
    if (v === undefined) throw new RangeError(`no value for {${key}} in ${template}`);
    return width ? String(v).padStart(Number(width), '0') : String(v);
  });
}

export const DEFAULT_FEATURE_DTYPES = { timestamp: 'float32', frame_index: 'int64', episode_index: 'int64', index: 'int64', task_index: 'int64' } as const;

const featureSchema = z.object({
  dtype: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()).min(1),
  names: z.union([z.null(), z.array(z.string()), z.record(z.string(), z.array(z.string()))]).optional(),
  info: z.record(z.string(), z.unknown()).optional(),
  fps: z.number().optional(),
});

export type LeRobotFeature = z.infer<typeof featureSchema>;

/**
 * meta/info.json as LeRobot v3.0 documents and writes it (`create_empty_dataset_info` and the
 * updates of `save_episode`). Strict about the keys a loader needs; tolerant of extra keys.
 */
export const leRobotInfoSchema = z
  .object({
    codebase_version: z.string().regex(/^v\d+\.\d+$/, 'a version such as "v3.0"'),
    robot_type: z.string().nullable(),
    total_episodes: z.number().int().nonnegative(),
    total_frames: z.number().int().nonnegative(),
    total_tasks: z.number().int().nonnegative(),
    chunks_size: z.number().int().positive(),
    data_files_size_in_mb: z.number().positive(),
    video_files_size_in_mb: z.number().positive().optional(),
    fps: z.number().int().positive(),
    splits: z.record(z.string(), z.string().regex(/^\d+:\d+$/, 'a range "start:end"')),
    data_path: z.string().includes('{chunk_index').includes('{file_index'),
    video_path: z.string().nullable(),
    features: z.record(z.string(), featureSchema),
  })
  .passthrough()
  .superRefine((info, ctx) => {
    for (const [name, dtype] of Object.entries(DEFAULT_FEATURE_DTYPES)) {
      const f = info.features[name];
      if (!f) ctx.addIssue({ code: 'custom', path: ['features', name], message: `the default feature ${name} is missing` });
      else if (f.dtype !== dtype || f.shape.length !== 1 || f.shape[0] !== 1) ctx.addIssue({ code: 'custom', path: ['features', name], message: `must be ${dtype} of shape [1]` });
    }
    for (const [name, f] of Object.entries(info.features)) {
      if (name.includes('/')) ctx.addIssue({ code: 'custom', path: ['features', name], message: 'feature names must not contain "/"' });
      if (Array.isArray(f.names) && f.shape.length === 1 && f.names.length !== f.shape[0]) ctx.addIssue({ code: 'custom', path: ['features', name, 'names'], message: `${f.names.length} names for shape [${f.shape[0]}]` });
    }
    for (const [split, range] of Object.entries(info.splits)) {
      const [a, b] = range.split(':').map(Number);
      if (!(a! <= b! && b! <= info.total_episodes)) ctx.addIssue({ code: 'custom', path: ['splits', split], message: `${range} is not inside 0:${info.total_episodes}` });
    }
    if (Object.values(info.features).some((f) => f.dtype === 'video') && !info.video_path) ctx.addIssue({ code: 'custom', path: ['video_path'], message: 'video features need a video_path' });
  });

export type LeRobotInfo = z.infer<typeof leRobotInfoSchema>;

/** Units of joint values in a LeRobot dataset. */
export type LeRobotUnits = 'degrees' | 'range_m100_100';

export const ROBOT_TYPES: Readonly<Record<string, 'so101' | 'koch'>> = { so101_follower: 'so101', so100_follower: 'so101', koch_follower: 'koch' };

export function robotTypeOf(arm: string): string {
  return arm === 'koch' ? 'koch_follower' : 'so101_follower';
}

/** LeRobot's default units for an arm's follower: degrees for SO-101, −100…100 for Koch. */
export function defaultUnits(arm: string): LeRobotUnits {
  return arm === 'koch' ? 'range_m100_100' : 'degrees';
}

/**
 * Converts one joint between armbridge units (radians around the middle of the calibrated range;
 * gripper 0…1) and LeRobot units, through the servo ticks the calibration defines. Linear and
 * unclamped both ways, so a round trip is exact up to float32 storage.
 */
export class LeRobotJointUnits {
  readonly #toLr: (units: number) => number;
  readonly #fromLr: (v: number) => number;

  constructor(name: string, cal: Calibration['joints'][string] | undefined, units: LeRobotUnits) {
    const gripper = name === 'gripper';
    const dir = cal?.drive_mode === 1 ? -1 : 1;
    const res = cal ? SERVO_MODELS[cal.model].resolution : 4096;
    const radPerTick = (2 * Math.PI) / res;
    const maxRes = res - 1; // LeRobot's max_res: 4095
    if (gripper) {
      // ours: g = (t − min)/(max − min) (1 − g for drive mode 1); LeRobot RANGE_0_100 is the same × 100.
      this.#toLr = (u) => u * 100;
      this.#fromLr = (v) => v / 100;
      return;
    }
    if (units === 'degrees') {
      // ours: dir·(t − mid)·radPerTick; LeRobot: (t − mid)·360/maxRes, whatever the drive mode.
      this.#toLr = (u) => ((dir * u) / radPerTick) * (360 / maxRes);
      this.#fromLr = (v) => dir * ((v * maxRes) / 360) * radPerTick;
      return;
    }
    if (!cal) throw new RangeError(`joint ${name}: −100…100 units need the calibrated range`);
    const span = cal.range_max - cal.range_min;
    // LeRobot: (t − min)/span·200 − 100 = (t − mid)·200/span, negated for drive mode 1 — i.e. dir·(t − mid)·200/span = ours/radPerTick·200/span.
    this.#toLr = (u) => (u / radPerTick) * (200 / span);
    this.#fromLr = (v) => ((v * span) / 200) * radPerTick;
  }

  toLeRobot(units: number): number {
    return this.#toLr(units);
  }

  fromLeRobot(value: number): number {
    return this.#fromLr(value);
  }
}

export function jointUnits(names: readonly string[], calibration: Calibration | undefined, units: LeRobotUnits): LeRobotJointUnits[] {
  return names.map((n) => new LeRobotJointUnits(n, calibration?.joints[n], units));
}

/** What armbridge keeps beside a LeRobot dataset (meta/armbridge.json) to import it back faithfully. */
export const armbridgeMetaSchema = z.object({
  format: z.literal('armbridge.lerobot/1'),
  arm: z.string(),
  units: z.enum(['degrees', 'range_m100_100']),
  joint_names: z.array(z.string()),
  calibration: z.unknown().optional(),
  episodes: z.array(
    z.object({
      episode_index: z.number().int(),
      source: z.string(),
      source_episode: z.number().int(),
      outcome: z.enum(['success', 'failure', 'score', 'unlabelled']),
      return: z.number().nullable(),
      operator: z.string().nullable(),
      dropped_cycles: z.number().int(),
      /** Where the episode's `action` came from: the recorded /action, or the follower's states ahead (a state-only recording). */
      action_labels: z.enum(['recorded', 'derived']).optional(),
    }),
  ),
  /** The horizon of derived action labels, in frames, when any episode has them. */
  action_label_horizon_steps: z.number().int().positive().optional(),
});

export type ArmbridgeMeta = z.infer<typeof armbridgeMetaSchema>;
