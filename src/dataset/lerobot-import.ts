/**
 * `armbridge import lerobot`: a LeRobotDataset v3.x folder → an armbridge recording (MCAP, the same
 * topics `record` writes), for the state/action part, so LeRobot datasets can train BC/RWR here.
 * Images and videos are out of scope and ignored.
 *
 *   observation.state → /follower/joint_states    action → /action   (radians; gripper 0…1)
 *   (a dataset without `action` imports as states only, like a kinesthetic recording: `train`
 *   derives its action labels from the states; so do the episodes meta/armbridge.json marks as
 *   holding derived labels, as armbridge's export of a state-only recording does)
 *   observation.environment_state → /target_pose (3 values, or named target.x…), /object_pose and /goal_pose (named object.x…, goal.x…)   next.reward → /reward
 *   episodes → /episode start/end events (and labels, when meta/armbridge.json has outcomes)
 *
 * Units come back through the calibration: from --calibration, else the one armbridge stored in
 * meta/armbridge.json on export; LeRobot degrees need only the drive direction (0 when unknown),
 * −100…100 needs the calibrated ranges. Log times are virtual: episode e's frame k is at
 * T0 + its start + timestamp, episodes 1 s apart. The file is written beside the output and renamed
 * into place when complete.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Calibration } from '../arm/calibration.ts';
import type { EpisodeEvent } from '../record/episodes.ts';
import { RECORDING_PROFILE, ARMBRIDGE_VERSION } from '../record/recorder.ts';
import { writeRecordingAtomic, type OutputMessage } from '../record/rewrite.ts';
import { cdrWriter, rosTime, SCHEMAS, type SchemaName } from '../record/ros-schemas.ts';
import { CalibrationMissingError, DataMismatchError, InfoInvalidError, InfoMissingError, NoStateActionError, UnsupportedVersionError } from './lerobot-errors.ts';
import { ARMBRIDGE_META_PATH, armbridgeMetaSchema, defaultUnits, INFO_PATH, jointUnits, leRobotInfoSchema, ROBOT_TYPES, type ArmbridgeMeta, type LeRobotInfo, type LeRobotUnits } from './lerobot-format.ts';
import { readParquet } from './parquet.ts';

/** Virtual time origin of imported recordings (2027-01-15T08:00:00Z). */
export const IMPORT_T0_NS = 1_800_000_000_000_000_000n;

export interface ImportOptions {
  /** Arm type; default from meta/armbridge.json, else robot_type (so100/so101_follower → so101, koch_follower → koch). */
  readonly arm?: 'so101' | 'koch';
  readonly units?: LeRobotUnits;
  readonly calibration?: Calibration;
  readonly overwrite?: boolean;
}

export interface ImportReport {
  readonly dir: string;
  readonly out: string;
  readonly codebaseVersion: string;
  readonly arm: string;
  readonly fps: number;
  readonly units: LeRobotUnits;
  readonly episodes: number;
  readonly frames: number;
  readonly topics: string[];
  readonly ignoredFeatures: string[];
}

export async function readLeRobotInfo(dir: string): Promise<LeRobotInfo> {
  let text: string;
  try {
    text = await readFile(join(dir, INFO_PATH), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new InfoMissingError(dir);
    throw new InfoInvalidError(dir, (e as Error).message, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InfoInvalidError(dir, `not JSON (${(e as Error).message})`, { cause: e });
  }
  const version = (json as { codebase_version?: unknown } | null)?.codebase_version;
  if (typeof version === 'string' && /^v\d/.test(version) && !version.startsWith('v3.')) throw new UnsupportedVersionError(dir, version);
  const parsed = leRobotInfoSchema.safeParse(json);
  if (!parsed.success) throw new InfoInvalidError(dir, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return parsed.data;
}

function jointNamesOf(names: unknown): string[] | undefined {
  const list = Array.isArray(names) ? names : names && typeof names === 'object' ? Object.values(names as Record<string, unknown>)[0] : undefined;
  return Array.isArray(list) && list.every((x) => typeof x === 'string') ? (list as string[]).map((s) => s.replace(/\.pos$/, '')) : undefined;
}

/** The Parquet files under DIR/<sub>/chunk-NNN/, sorted, as LeRobot's loader globs them. */
async function parquetFiles(dir: string, sub = 'data'): Promise<string[]> {
  const root = join(dir, sub);
  const chunks = await readdir(root).catch(() => [] as string[]);
  const files: string[] = [];
  for (const c of chunks.sort()) {
    const inner = await readdir(join(root, c)).catch(() => [] as string[]);
    for (const f of inner.sort()) if (f.endsWith('.parquet')) files.push(join(root, c, f));
  }
  return files;
}

const toNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v));

function vector(v: unknown, size: number, what: string, dir: string): number[] {
  const a = Array.isArray(v) ? v.map(toNumber) : v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : undefined;
  if (!a || a.length !== size) throw new DataMismatchError(dir, `${what} should hold ${size} values, found ${Array.isArray(a) ? a.length : typeof v}`);
  return a;
}

export async function importLeRobot(dir: string, out: string, options: ImportOptions = {}): Promise<ImportReport> {
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) throw new InfoMissingError(dir);
  const info = await readLeRobotInfo(dir);
  let armMeta: ArmbridgeMeta | undefined;
  try {
    const parsed = armbridgeMetaSchema.safeParse(JSON.parse(await readFile(join(dir, ARMBRIDGE_META_PATH), 'utf8')));
    if (parsed.success) armMeta = parsed.data;
  } catch {
    armMeta = undefined;
  }
  const stateF = info.features['observation.state'];
  const actionF = info.features['action'];
  const numeric = (f: (typeof info.features)[string] | undefined) => f && f.shape.length === 1 && /^(float|int)/.test(f.dtype);
  // observation.state is needed; action is optional (a state-only dataset), but must be numeric if present.
  if (!numeric(stateF) || (actionF && !numeric(actionF))) throw new NoStateActionError(dir, Object.keys(info.features).filter((k) => !['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'].includes(k)));
  const hasAction = !!actionF;
  const n = stateF!.shape[0]!;
  if (hasAction && actionF!.shape[0] !== n) throw new DataMismatchError(dir, `observation.state has ${n} values but action ${actionF!.shape[0]}: armbridge needs target joint positions as the action`);
  const names = jointNamesOf(stateF!.names) ?? armMeta?.joint_names ?? Array.from({ length: n }, (_, i) => `joint_${i}`);
  const arm = options.arm ?? (armMeta?.arm as 'so101' | 'koch' | undefined) ?? ROBOT_TYPES[info.robot_type ?? ''] ?? 'so101';
  const units = options.units ?? armMeta?.units ?? defaultUnits(arm);
  const calibration = options.calibration ?? (armMeta?.calibration as Calibration | undefined);
  if (units === 'range_m100_100' && !calibration) throw new CalibrationMissingError(dir);
  const conv = jointUnits(names, calibration, units);
  const envF = info.features['observation.environment_state'];
  // observation.environment_state → pose topics: named x, y, z per pose (target; object and goal, as
  // armbridge exports pick and place), or 3 unnamed values as the reach target.
  const POSE_TOPICS: Readonly<Record<string, string>> = { target: '/target_pose', object: '/object_pose', goal: '/goal_pose' };
  const envNames = Array.isArray(envF?.names) ? (envF.names as unknown[]).map(String) : undefined;
  const envTopics: string[] =
    envF && envF.shape.length === 1 && envNames && envNames.length === envF.shape[0] && envNames.length % 3 === 0 && envNames.every((x, i) => x === `${envNames[i - (i % 3)]!.split('.')[0]}.${'xyz'[i % 3]}` && POSE_TOPICS[x.split('.')[0]!] !== undefined)
      ? envNames.filter((_, i) => i % 3 === 0).map((x) => POSE_TOPICS[x.split('.')[0]!]!)
      : envF && envF.shape.length === 1 && envF.shape[0] === 3
        ? ['/target_pose']
        : [];
  const hasTarget = envTopics.length > 0;
  const hasReward = !!info.features['next.reward'];
  const ignored = Object.keys(info.features).filter((k) => !['observation.state', 'action', 'timestamp', 'frame_index', 'episode_index', 'index', 'task_index', 'next.reward', ...(hasTarget ? ['observation.environment_state'] : [])].includes(k));

  const files = await parquetFiles(dir);
  if (files.length === 0) throw new DataMismatchError(dir, 'no Parquet files under data/');
  const columns = ['observation.state', ...(hasAction ? ['action'] : []), 'episode_index', 'frame_index', 'timestamp', ...(hasTarget ? ['observation.environment_state'] : []), ...(hasReward ? ['next.reward'] : [])];
  type Frame = { ep: number; k: number; t: number; state: number[]; action?: number[]; env?: number[]; reward?: number };
  const byEpisode = new Map<number, Frame[]>();
  let frames = 0;
  for (const f of files) {
    let table;
    try {
      table = await readParquet(f, columns);
    } catch (e) {
      throw new DataMismatchError(dir, `${f} cannot be read as Parquet with columns ${columns.join(', ')} (${(e as Error).message})`);
    }
    for (const r of table.rows) {
      const fr: Frame = {
        ep: toNumber(r.episode_index),
        k: toNumber(r.frame_index),
        t: toNumber(r.timestamp),
        state: vector(r['observation.state'], n, 'observation.state', dir),
        action: hasAction ? vector(r.action, n, 'action', dir) : undefined,
        env: hasTarget ? vector(r['observation.environment_state'], 3 * envTopics.length, 'observation.environment_state', dir) : undefined,
        reward: hasReward ? toNumber(Array.isArray(r['next.reward']) ? r['next.reward'][0] : r['next.reward']) : undefined,
      };
      const list = byEpisode.get(fr.ep);
      if (list) list.push(fr);
      else byEpisode.set(fr.ep, [fr]);
      frames++;
    }
  }
  if (frames !== info.total_frames) throw new DataMismatchError(dir, `meta/info.json says ${info.total_frames} frames, the data files hold ${frames}`);
  if (byEpisode.size !== info.total_episodes) throw new DataMismatchError(dir, `meta/info.json says ${info.total_episodes} episodes, the data files hold ${byEpisode.size}`);
  // The episodes table (when present) must agree with the frames: same episodes, same lengths.
  for (const f of await parquetFiles(dir, 'meta/episodes')) {
    let table;
    try {
      table = await readParquet(f, ['episode_index', 'length']);
    } catch (e) {
      throw new DataMismatchError(dir, `${f} cannot be read as an episodes table (${(e as Error).message})`);
    }
    for (const r of table.rows) {
      const e = toNumber(r.episode_index);
      const got = byEpisode.get(e)?.length ?? 0;
      if (got !== toNumber(r.length)) throw new DataMismatchError(dir, `meta/episodes says episode ${e} has ${toNumber(r.length)} frames, the data files hold ${got}`);
    }
  }

  const topics: { topic: string; schema: SchemaName }[] = [
    { topic: '/follower/joint_states', schema: 'sensor_msgs/msg/JointState' },
    ...(hasAction ? [{ topic: '/action', schema: 'sensor_msgs/msg/JointState' as const }] : []),
    { topic: '/episode', schema: 'std_msgs/msg/String' },
    ...envTopics.map((topic) => ({ topic, schema: 'geometry_msgs/msg/PoseStamped' as const })),
    ...(hasReward ? [{ topic: '/reward', schema: 'std_msgs/msg/Float64' as const }] : []),
  ];
  const enc = (schema: SchemaName, msg: unknown) => cdrWriter(schema).writeMessage(msg);
  const outcomes = new Map((armMeta?.episodes ?? []).map((e) => [e.episode_index, e]));
  const messages: OutputMessage[] = [];
  let cursor = IMPORT_T0_NS;
  const episodeIds = [...byEpisode.keys()].sort((a, b) => a - b);
  for (const e of episodeIds) {
    const list = byEpisode.get(e)!.sort((a, b) => a.k - b.k);
    const t0 = list[0]!.t;
    const at = (fr: Frame) => cursor + BigInt(Math.round((fr.t - t0) * 1e9));
    const known = outcomes.get(e);
    const ev = (t: bigint, x: EpisodeEvent) => messages.push({ topic: '/episode', logTimeNs: t, data: enc('std_msgs/msg/String', { data: JSON.stringify(x) }) });
    ev(at(list[0]!), { event: 'start', episode: e, operator: known?.operator ?? 'lerobot', detail: { source: dir, lerobot_episode: e } });
    let rewardSum = 0;
    for (const fr of list) {
      const t = at(fr);
      const js = (frame: string, values: number[]) => ({ header: { stamp: rosTime(t), frame_id: frame }, name: names, position: Float64Array.from(values.map((v, j) => conv[j]!.fromLeRobot(v))), velocity: [], effort: [] });
      messages.push({ topic: '/follower/joint_states', logTimeNs: t, data: enc('sensor_msgs/msg/JointState', js('follower', fr.state)) });
      if (fr.action && known?.action_labels !== 'derived') messages.push({ topic: '/action', logTimeNs: t, data: enc('sensor_msgs/msg/JointState', js('action', fr.action)) });
      if (fr.env) {
        const env = fr.env;
        envTopics.forEach((topic, p) => {
          const [x, y, z] = [env[3 * p]!, env[3 * p + 1]!, env[3 * p + 2]!];
          messages.push({ topic, logTimeNs: t, data: enc('geometry_msgs/msg/PoseStamped', { header: { stamp: rosTime(t), frame_id: 'base_link' }, pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }) });
        });
      }
      if (fr.reward !== undefined) {
        rewardSum += fr.reward;
        messages.push({ topic: '/reward', logTimeNs: t, data: enc('std_msgs/msg/Float64', { data: fr.reward }) });
      }
    }
    const last = at(list[list.length - 1]!);
    ev(last, { event: 'end', episode: e, reward_sum: hasReward ? rewardSum : undefined, reason: 'time' });
    if (known && known.outcome !== 'unlabelled') {
      ev(last, known.outcome === 'score' ? { event: 'label', episode: e, outcome: 'score', score: known.return ?? 0 } : { event: 'label', episode: e, outcome: known.outcome });
    }
    cursor = last + 1_000_000_000n;
  }

  const metadata = new Map<string, Map<string, string>>([
    [
      'armbridge',
      new Map([
        ['arm', arm],
        ['rate_hz', String(info.fps)],
        ['software', `armbridge ${ARMBRIDGE_VERSION}`],
        ['operator', 'lerobot dataset'],
        ...(hasAction ? [] : [['actions', 'none (states only: train derives labels from them)'] as [string, string]]),
        ['virtual_time', 'true'],
        ['joint_names', names.join(',')],
        ['units', 'radians; gripper 0 (closed) … 1 (open)'],
        ...(calibration ? [['follower_calibration', JSON.stringify(calibration)] as [string, string]] : []),
        ['imported_from', dir],
        ['lerobot_codebase_version', info.codebase_version],
        ['lerobot_robot_type', info.robot_type ?? ''],
        ['lerobot_units', units],
      ]),
    ],
  ]);
  await writeRecordingAtomic(out, {
    profile: RECORDING_PROFILE,
    library: `armbridge ${ARMBRIDGE_VERSION} (lerobot import)`,
    metadata,
    channels: topics.map((t) => ({ topic: t.topic, schemaName: t.schema, schemaText: SCHEMAS[t.schema], messageEncoding: 'cdr' })),
    messages,
  }, { overwrite: options.overwrite });
  return { dir, out, codebaseVersion: info.codebase_version, arm, fps: info.fps, units, episodes: episodeIds.length, frames, topics: topics.map((t) => t.topic), ignoredFeatures: ignored };
}
