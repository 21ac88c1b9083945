/**
 * A simulated leader and follower in one world, each on its own real pty (socat), for the real-arm
 * commands (scan, calibrate, teleop, record, deploy…) to run against as against two arms on a bench.
 * A person stands at the bench: the scripted operator moves the leader when told an episode starts
 * (`start`), lets go and brings it back to rest while the scene is put back (`reset`), and the world
 * judges what the FOLLOWER did (`judge`): the task is scored on the follower's physical joints every
 * `scoreEveryMs` between `start` and `reset`, in real time, as SimWorld.evaluate scores it (reach's
 * success needs the tool held at the target for 0.5 s, so it is scored continuously, not sampled at
 * the end).
 *
 * The control channel (`handlePairCommand`) is line-based: one command a line, one JSON line back.
 * The caller wires it to stdin/stdout (armbridge sim --pair) or runs it on a clock (`runPairCadence`).
 */
import type { MountJoint } from '../sim/calibration-mount.ts';
import type { FailureMode, Skill } from '../sim/operator.ts';
import { PtySimServer } from '../sim/pty-server.ts';
import type { SimArmKind } from '../sim/presets.ts';
import type { TaskName } from '../sim/task.ts';
import { SimWorld, type SceneMode } from '../sim/world.ts';
import { REST_POSE } from './sim-arms-env.ts';

export interface SimPairOptions {
  readonly arm: SimArmKind;
  readonly task: TaskName;
  readonly scene: SceneMode;
  /** The operator's skills and their relative weights, drawn at each `start`. */
  readonly mix: Partial<Record<Skill, number>>;
  readonly seed: number;
  readonly leaderLink: string;
  readonly followerLink: string;
  /** Mount the servos after these calibrations (default: uncalibrated, as out of the box). */
  readonly leaderMount?: readonly MountJoint[];
  readonly followerMount?: readonly MountJoint[];
  /** How often the task scores the follower during an episode, ms. Default 10. */
  readonly scoreEveryMs?: number;
}

/** The world's verdict on an episode, judged on the follower's physical joints. */
export interface PairJudgement {
  readonly episode: number;
  readonly skill: Skill;
  readonly failure: FailureMode;
  /** The success condition at the episode's last scoring tick (its outcome, as the world scores it). */
  readonly success: boolean;
  /** The task's own code for why the episode stands as it does ('success', 'not_held', 'dropped', …). */
  readonly outcome: string;
  /** Sum of the per-tick rewards (one tick every scoreEveryMs). */
  readonly return: number;
  readonly ticks: number;
  /** The task's distance to done at the last tick, m. */
  readonly distanceM: number;
  /** true while the episode is still being scored (no `reset` since its `start`). */
  readonly scoring: boolean;
}

/** One acknowledgement on the control channel (a JSON line). */
export type PairEvent =
  | { readonly event: 'started'; readonly episode: number; readonly scene: Record<string, unknown>; readonly skill: Skill; readonly failure: FailureMode }
  | { readonly event: 'reset'; readonly episode: number; readonly scene: Record<string, unknown> }
  | ({ readonly event: 'judged' } & PairJudgement)
  | { readonly event: 'quit' }
  | { readonly event: 'error'; readonly message: string };

interface Scoring {
  readonly episode: number;
  readonly skill: Skill;
  readonly failure: FailureMode;
  success: boolean;
  returnSum: number;
  ticks: number;
  distanceM: number;
  outcome: string;
}

export class SimPair {
  readonly world: SimWorld;
  readonly leader: PtySimServer;
  readonly follower: PtySimServer;
  readonly #scoreEveryMs: number;
  readonly #mix: Partial<Record<Skill, number>>;
  readonly #arm: SimArmKind;
  #timer: NodeJS.Timeout | undefined;
  /** The scene put in place (by `reset`) and not yet demonstrated. */
  #pendingScene: Record<string, unknown> | undefined;
  #current: Scoring | undefined;
  #closed = false;

  private constructor(world: SimWorld, leader: PtySimServer, follower: PtySimServer, options: SimPairOptions) {
    this.world = world;
    this.leader = leader;
    this.follower = follower;
    this.#scoreEveryMs = options.scoreEveryMs ?? 10;
    this.#mix = options.mix;
    this.#arm = options.arm;
  }

  /** Builds the world and serves both arms; on failure nothing is left open. */
  static async start(options: SimPairOptions): Promise<SimPair> {
    const world = new SimWorld({ arm: options.arm, seed: options.seed, task: options.task, scene: options.scene, leaderMount: options.leaderMount, followerMount: options.followerMount });
    let leader: PtySimServer | undefined;
    try {
      leader = await PtySimServer.start({ bus: world.leader.bus, link: options.leaderLink });
      const follower = await PtySimServer.start({ bus: world.follower.bus, link: options.followerLink });
      return new SimPair(world, leader, follower, options);
    } catch (e) {
      await leader?.close();
      world.close();
      throw e;
    }
  }

  /** Episodes started so far. */
  get episodes(): number {
    return this.#current ? this.#current.episode + 1 : 0;
  }

  /**
   * An episode starts: the scene put back during the reset (or, before the first reset, drawn now),
   * a skill drawn from the mix, the operator demonstrating it with the leader; scoring starts. A
   * `start` during an episode ends that one's scoring first, as `reset` would, without the rest pose.
   */
  start(): Extract<PairEvent, { event: 'started' }> {
    this.#stopScoring();
    const scene = this.#pendingScene ?? this.world.drawScene();
    this.#pendingScene = undefined;
    const skill = this.world.pickSkill(this.#mix);
    const { index, plan } = this.world.demonstrate(skill);
    this.#current = { episode: index, skill, failure: plan.failure, success: false, returnSum: 0, ticks: 0, distanceM: NaN, outcome: this.world.task.outcome() };
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#scoreEveryMs);
    return { event: 'started', episode: index, scene, skill, failure: plan.failure };
  }

  /** The episode is over: scoring stops, the operator brings the leader back to rest, the next scene is put in place. */
  reset(): Extract<PairEvent, { event: 'reset' }> {
    this.#stopScoring();
    this.world.operator.start(REST_POSE[this.#arm], 'expert');
    this.#pendingScene = this.world.drawScene();
    return { event: 'reset', episode: this.#current?.episode ?? -1, scene: this.#pendingScene };
  }

  /** The verdict on the current (or last) episode; undefined before the first `start`. */
  judge(): PairJudgement | undefined {
    const c = this.#current;
    if (!c) return undefined;
    return { episode: c.episode, skill: c.skill, failure: c.failure, success: c.success, outcome: c.outcome, return: c.returnSum, ticks: c.ticks, distanceM: c.distanceM, scoring: this.#timer !== undefined };
  }

  #tick(): void {
    const c = this.#current;
    if (!c) return;
    const e = this.world.evaluate();
    c.success = e.success;
    c.returnSum += e.reward;
    c.ticks++;
    c.distanceM = e.distanceM;
    c.outcome = this.world.task.outcome();
  }

  #stopScoring(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tick(); // the episode's last state, at the moment it ended
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await this.follower.close();
    } finally {
      await this.leader.close();
      this.world.close();
    }
  }
}

/** The control channel's commands, as documented in `armbridge sim --help`. */
export const PAIR_COMMANDS = ['start', 'reset', 'judge', 'quit'] as const;

/** One line of the control channel → its acknowledgement (never throws: a bad line gets an error event). */
export function handlePairCommand(pair: SimPair, line: string): PairEvent {
  try {
    return pairCommand(pair, line.trim());
  } catch (e) {
    return { event: 'error', message: `${line.trim()} failed: ${(e as Error).message}` };
  }
}

function pairCommand(pair: SimPair, cmd: string): PairEvent {
  switch (cmd) {
    case 'start':
      return pair.start();
    case 'reset':
      return pair.reset();
    case 'judge': {
      const j = pair.judge();
      return j ? { event: 'judged', ...j } : { event: 'error', message: 'judge before any start: no episode to judge' };
    }
    case 'quit':
      return { event: 'quit' };
    default:
      return { event: 'error', message: `unknown command "${cmd}": one of ${PAIR_COMMANDS.join(', ')}` };
  }
}

/** The JSON line of an event (distances and returns rounded: the line is for people and harnesses). */
export function pairEventLine(e: PairEvent): string {
  return `${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(5)) : v))}\n`;
}

/**
 * Autonomous mode (--cadence): start, `episodeS` later reset and judge, `resetS` later the next start,
 * until `signal` aborts. Each event goes to `emit`.
 */
export async function runPairCadence(pair: SimPair, cadence: { episodeS: number; resetS: number }, emit: (e: PairEvent) => void, signal: AbortSignal): Promise<void> {
  const sleep = (s: number) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, s * 1000);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  while (!signal.aborted) {
    emit(pair.start());
    await sleep(cadence.episodeS);
    if (signal.aborted) break;
    emit(pair.reset());
    emit(handlePairCommand(pair, 'judge'));
    await sleep(cadence.resetS);
  }
}
