/**
 * A person's hand at a simulated arm that is being calibrated over the wire: `armbridge sim --hand
 * calibrate` in one terminal, `armbridge calibrate --port PTY` (or LeRobot's calibrate) in another.
 * Nothing but a hand can move an arm with torque off, so without it a calibration over a pty sees
 * no motion. The hand watches the servos' registers, which is what a calibration changes on the wire:
 *
 *   - every servo torque off with its calibration reset (homing offset 0, limits 0…resolution − 1):
 *     the procedure now asks for the middle pose → the hand holds each joint near the middle of its
 *     travel (a few degrees off, as a person would);
 *   - every servo given a homing offset while the limits are still reset: the procedure now asks
 *     for the sweep → the hand moves one joint after the other from stop to stop, slowly, pausing at
 *     each end, round after round, as a person does until pressing Enter;
 *   - any servo given limits (the calibration is written, or an arm is opened with its calibration
 *     file): the hand lets go, and waits for the next reset.
 *
 * The person still presses Enter in the calibrating terminal. The middle is held where no joint reads
 * exactly mid-scale, so every homing offset written for it is non-zero and the second step is seen.
 * Registers are polled on a timer (the sim clock is the process's real clock): the hand reacts within
 * `pollMs`, as a person reacts to a prompt.
 */
import type { SimBus } from './sim-bus.ts';
import type { SimServo } from './sim-servo.ts';
import { Rng } from './random.ts';

export type CalibrationHandState = 'idle' | 'holding' | 'sweeping';

export interface CalibrationHandOptions {
  /** Seconds spent on each joint per round of the sweep. Default 1. */
  readonly secondsPerJoint?: number;
  /** How far from the true middle the hand holds each joint, radians (uniform ±). Default 0.08. */
  readonly imprecisionRad?: number;
  /** How often the registers are looked at, ms. Default 10. */
  readonly pollMs?: number;
  readonly seed?: number;
  /** Told on every change of state (the `sim` command prints it). */
  readonly onState?: (state: CalibrationHandState) => void;
}

const COUNTS_PER_RAD = 4096 / (2 * Math.PI);

/** mid → min (25 %), dwell (15 %), min → max (35 %), dwell (15 %), max → mid (10 %): fractions of a joint's turn. */
const LEGS: readonly (readonly [share: number, from: 'mid' | 'min' | 'max', to: 'mid' | 'min' | 'max'])[] = [
  [0.25, 'mid', 'min'],
  [0.15, 'min', 'min'],
  [0.35, 'min', 'max'],
  [0.15, 'max', 'max'],
  [0.1, 'max', 'mid'],
];

export class CalibrationHand {
  readonly #servos: readonly SimServo[];
  readonly #bus: SimBus;
  readonly #perJointUs: number;
  readonly #middles: readonly number[];
  readonly #onState: ((state: CalibrationHandState) => void) | undefined;
  readonly #timer: NodeJS.Timeout;
  #state: CalibrationHandState = 'idle';

  constructor(bus: SimBus, options: CalibrationHandOptions = {}) {
    this.#bus = bus;
    this.#servos = bus.servos;
    this.#perJointUs = (options.secondsPerJoint ?? 1) * 1e6;
    this.#onState = options.onState;
    const rng = new Rng(options.seed ?? 11);
    const imprecision = (options.imprecisionRad ?? 0.08) * COUNTS_PER_RAD;
    this.#middles = this.#servos.map((s) => {
      const res = s.model.resolution;
      let m = (s.travel.min + s.travel.max) / 2 + rng.uniform(-1, 1) * imprecision;
      // Reading exactly mid-scale would make the homing offset 0: indistinguishable from the reset.
      if (Math.abs((((Math.round(m) - res / 2) % res) + res) % res) < 2) m += 3;
      return m;
    });
    this.#timer = setInterval(() => this.#poll(), options.pollMs ?? 10);
    this.#timer.unref();
    this.#poll();
  }

  get state(): CalibrationHandState {
    return this.#state;
  }

  /** Lets go of every joint and stops watching. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    if (this.#state !== 'idle') for (const s of this.#servos) s.setDriver(undefined);
    this.#state = 'idle';
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #poll(): void {
    const reset = this.#servos.every((s) => !s.torqueEnabled && s.get('Homing_Offset') === 0 && fullRange(s));
    const homed = this.#servos.every((s) => s.get('Homing_Offset') !== 0 && fullRange(s));
    const limited = this.#servos.some((s) => !fullRange(s));
    if (reset && this.#state !== 'holding') this.#hold();
    else if (homed && this.#state === 'holding') this.#sweep();
    else if (limited && this.#state !== 'idle') this.#release();
  }

  #hold(): void {
    this.#servos.forEach((s, i) => s.setDriver(() => this.#middles[i]!));
    this.#set('holding');
  }

  #sweep(): void {
    const start = this.#bus.clock.nowUs();
    const per = this.#perJointUs;
    const round = per * this.#servos.length;
    this.#servos.forEach((s, i) => {
      const at = { mid: this.#middles[i]!, min: s.travel.min, max: s.travel.max };
      s.setDriver((now) => {
        let t = ((now - start) % round) / per - i;
        if (t < 0 || t >= 1) return at.mid;
        for (const [share, from, to] of LEGS) {
          if (t <= share) return at[from] + ((at[to] - at[from]) * t) / share;
          t -= share;
        }
        return at.mid;
      });
    });
    this.#set('sweeping');
  }

  #release(): void {
    for (const s of this.#servos) s.setDriver(undefined);
    this.#set('idle');
  }

  #set(state: CalibrationHandState): void {
    this.#state = state;
    this.#onState?.(state);
  }
}

function fullRange(s: SimServo): boolean {
  return s.get('Min_Position_Limit') === 0 && s.get('Max_Position_Limit') === s.model.resolution - 1;
}
