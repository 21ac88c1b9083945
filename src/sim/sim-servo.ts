/**
 * One simulated servo: its whole control-table memory (EEPROM persisted across power cycles, RAM
 * reset), and a joint with first-order position control under velocity and acceleration limits,
 * mechanical hard stops, load and overload protection. The firmware (sim/*-firmware.ts) decides what
 * the wire may read and write; this class is the device behind it.
 *
 * Overload protection, Feetech STS (Feetech's STS3215 memory table and the ST-3215 datasheet §7-11,
 * PROTOCOLS.md B5): when the load stays above Overload_Torque (36, % of maximum) for Protection_Time
 * (35, × 10 ms; 80 % for 2 s by default) with the joint stalled, the servo enters overload
 * protection: Status bit 5 (0x20) is set, and, if Unloading_Condition (19) has bit 5, its output is
 * limited to Protective_Torque (34, %, default 20) — torque stays enabled. The datasheet: "a new
 * position command clears the overload flag"; so does a power cycle. Until then every status
 * packet, a ping's included, carries the bit (as LeRobot users report: the motor then looks missing
 * to LeRobot's handshake until power is cycled). Whether an unchanged goal counts as "new" is not
 * documented: here any write of Goal_Position clears it.
 * Over-current, Feetech: Present_Current above Protection_Current (28, 6.5 mA units) for
 * Over_Current_Protection_Time (38, × 10 ms, at least one unit; 200 from the factory) with the joint stalled sets Status bit 3 (0x08); torque is
 * cut if Unloading_Condition has that bit (the factory value 44 has). The sim's current is
 * proportional to the load, FT_FULL_LOAD_CURRENT at 100 % (≈ 1.95 A, below the factory 511 ≈ 3.3 A:
 * by default it never trips).
 * Output limits: Feetech Torque_Limit (48; copied from Max_Torque_Limit, 16, at power-up), and
 * Protective_Torque while overload-protected; Dynamixel in current-based position mode (5):
 * Goal_Current (≤ Current_Limit; Current_Limit at power-up, unverified), the load in the sim's units
 * being Present_Current / DXL_FULL_LOAD_MA. Limits change the load and current reported and what
 * trips protection, not how fast the joint moves (tracking is the same at any limit: there is no
 * gravity or contact force in this model to overcome). Gains (P/I/D) are not modelled.
 * Dynamixel X: an overload sets Hardware_Error_Status bit 5; if Shutdown has that bit, torque is
 * cut and only a reboot clears it (PROTOCOLS.md A).
 * An obstacle (setObstacle: an object between the gripper's jaws) stops the joint like a hard stop.
 *
 * Units: positions in encoder counts (the physical encoder reading is `position mod 4096`),
 * velocities in counts/s, time in µs from the injected clock.
 */
import { decodeRegister, encodeRegister, type RegisterSpec, type ServoModel } from '../protocol/index.ts';
import type { SimClock } from './clock.ts';

export interface ServoFaults {
  /** The servo does not answer at all (unpowered, broken cable, wrong id wiring). */
  silent: boolean;
  /** This many next replies leave with a corrupted checksum. */
  corruptReplies: number;
  /** This many next replies are cut off halfway. */
  truncateReplies: number;
  /** Registers whose writes the servo acknowledges but does not take (a worn EEPROM cell, a firmware that ignores them). */
  ignoredWrites: readonly string[];
}

export interface SimServoOptions {
  readonly model: ServoModel;
  readonly id: number;
  /** Baud_Rate register value at power-up (the model's factory value if omitted). */
  readonly baudCode?: number;
  /** Where the joint physically is at power-up, in counts (encoder reading = value mod 4096). */
  readonly positionCounts?: number;
  /** Mechanical hard stops of the joint this servo drives, in the same counts. */
  readonly travel?: { readonly min: number; readonly max: number };
  /** Return_Delay_Time register value at power-up (the model's factory value if omitted). */
  readonly returnDelayCode?: number;
  readonly clock: SimClock;
}

const SUBSTEP_US = 500;
const POSITION_GAIN_PER_S = 40;
/** Dynamixel (ROBOTIS documents no threshold): |load| above this fraction of maximum for
 * OVERLOAD_US trips overload protection. Feetech servos take both from their registers. */
const OVERLOAD_FRACTION = 0.9;
const OVERLOAD_US = 1_500_000;
const FT_OVERLOAD_BIT = 0x20;
const FT_OVERCURRENT_BIT = 0x08;
/** Feetech Present_Current (6.5 mA units) at 100 % load. */
const FT_FULL_LOAD_CURRENT = 300;
/** Dynamixel Present_Current (mA) at 100 % load. */
const DXL_FULL_LOAD_MA = 1000;
const DXL_CURRENT_BASED_POSITION = 5;
const DEAD_BAND_COUNTS = 0.75;

export class SimServo {
  readonly model: ServoModel;
  readonly memory: Uint8Array;
  readonly faults: ServoFaults = { silent: false, corruptReplies: 0, truncateReplies: 0, ignoredWrites: [] };
  /** Integration sub-steps taken so far (diagnostics: idle time must cost none). */
  substeps = 0;
  readonly #clock: SimClock;
  readonly #travel: { min: number; max: number };
  readonly #powerOnUs: number;
  #persisted: Uint8Array;
  #pos: number;
  #vel = 0;
  #lastUs: number;
  readonly #overload = new ProtectionTimer();
  readonly #overCurrentTimer = new ProtectionTimer();
  /** Something in the joint's way (see setObstacle), in counts. */
  #obstacle: { min: number; max: number } = { min: -Infinity, max: Infinity };
  /** Feetech: in overload protection, output limited to Protective_Torque. */
  #overloadProtected = false;
  #pendingRegWrite: { address: number; data: Uint8Array } | undefined;
  #driver: ((nowUs: number) => number) | undefined;

  constructor(options: SimServoOptions) {
    this.model = options.model;
    this.#clock = options.clock;
    this.memory = new Uint8Array(Math.max(options.model.memorySize, 256));
    this.#pos = options.positionCounts ?? options.model.resolution / 2;
    this.#travel = { min: options.travel?.min ?? -Infinity, max: options.travel?.max ?? Infinity };
    this.#loadFactory();
    this.set('ID', options.id);
    if (options.baudCode !== undefined) this.set('Baud_Rate', options.baudCode);
    if (options.returnDelayCode !== undefined) this.set('Return_Delay_Time', options.returnDelayCode);
    this.#persisted = this.memory.slice(0, this.model.eepromEnd);
    this.#lastUs = this.#clock.nowUs();
    this.#powerOnUs = this.#lastUs;
    this.#resetRam();
  }

  get id(): number {
    return this.get('ID');
  }

  get vendor(): 'feetech' | 'dynamixel' {
    return this.model.vendor;
  }

  /** Physical joint position in counts (continuous, not wrapped). */
  get positionCounts(): number {
    this.update();
    return this.#pos;
  }

  get velocityCountsPerS(): number {
    this.update();
    return this.#vel;
  }

  get travel(): { readonly min: number; readonly max: number } {
    return this.#travel;
  }

  /**
   * An object in the joint's way, as the world puts it there: the joint cannot go below `min` or
   * above `max` (counts, like travel), e.g. a cube between the gripper's jaws stops them closing.
   * The servo then stalls against it like against a hard stop: load, current and protection follow
   * from its limits. undefined removes it.
   */
  setObstacle(obstacle: { readonly min?: number; readonly max?: number } | undefined): void {
    this.update();
    this.#obstacle = { min: obstacle?.min ?? -Infinity, max: obstacle?.max ?? Infinity };
    this.#pos = this.#clampStops(this.#pos);
    this.#refreshPresent();
  }

  /** Hard stops and obstacle together. */
  #clampStops(p: number): number {
    const lo = Math.max(this.#travel.min, this.#obstacle.min);
    const hi = Math.min(this.#travel.max, this.#obstacle.max);
    return Math.min(hi, Math.max(lo, p));
  }

  #atStop(): boolean {
    return this.#pos === this.#clampStops(-Infinity) || this.#pos === this.#clampStops(Infinity);
  }

  spec(name: string): RegisterSpec | undefined {
    return (this.model.table as Partial<Record<string, RegisterSpec>>)[name];
  }

  /** Reads a register straight from memory (no access rules, no dynamics update). */
  get(name: string): number {
    const spec = this.spec(name);
    if (!spec) return 0;
    return decodeRegister(spec, this.memory, spec.address, this.model.endianness);
  }

  /** Writes a register straight into memory (no access rules). Values are clamped to fit. */
  set(name: string, value: number): void {
    const spec = this.spec(name);
    if (!spec) return;
    const v = Math.round(value);
    let lo = 0;
    let hi = 2 ** (8 * spec.size) - 1;
    if (spec.signBit !== undefined) {
      hi = 2 ** spec.signBit - 1;
      lo = -hi;
    } else if (spec.signed) {
      hi = 2 ** (8 * spec.size - 1) - 1;
      lo = -(2 ** (8 * spec.size - 1));
    }
    encodeRegister(spec, Math.min(hi, Math.max(lo, v)), this.memory, spec.address, this.model.endianness);
  }

  /** Moves the joint by hand (a person moving a leader arm, or a test); only while torque is off
   * does it stay there. Hard stops still apply. */
  moveTo(positionCounts: number): void {
    this.update();
    this.#pos = this.#clampStops(positionCounts);
    this.#vel = 0;
    this.#refreshPresent();
  }

  /**
   * A hand on the joint: while set and torque is off (or in Feetech damping), the joint follows `driver(nowUs)` (counts),
   * evaluated whenever the servo is read, so motion is smooth at any sampling rate. This is how a
   * person (or the scripted operator) moves a leader arm, or sweeps an arm during calibration.
   */
  setDriver(driver: ((nowUs: number) => number) | undefined): void {
    this.update();
    this.#driver = driver;
  }

  get torqueEnabled(): boolean {
    return this.get('Torque_Enable') !== 0;
  }

  /**
   * Feetech damping mode (Torque_Enable = 2, PROTOCOLS.md B): no position control, the output only
   * resists motion, so a hand moves the joint and a joint let go slows to a stop instead of
   * falling. Dynamixel has no such value.
   */
  get damping(): boolean {
    return this.vendor === 'feetech' && this.get('Torque_Enable') === 2;
  }

  /** The position controller drives the joint (torque on, not damping). */
  #positionControl(): boolean {
    return this.torqueEnabled && !this.damping;
  }

  /** Hardware error bits currently latched (Feetech Status register / Dynamixel Hardware_Error_Status). */
  get hardwareError(): number {
    return this.get(this.vendor === 'feetech' ? 'Status' : 'Hardware_Error_Status');
  }

  /**
   * Latches hardware error bits (overload, overheat, …). Torque is cut for the bits in the model's
   * shutdown mask (Feetech Unloading_Condition, Dynamixel Shutdown), except a Feetech overload,
   * which limits the output to Protective_Torque instead (see the header).
   */
  injectHardwareError(bits: number): void {
    this.update();
    const feetech = this.vendor === 'feetech';
    const reg = feetech ? 'Status' : 'Hardware_Error_Status';
    this.set(reg, this.get(reg) | bits);
    const mask = feetech ? this.get('Unloading_Condition') : this.get('Shutdown');
    if (feetech && bits & mask & FT_OVERLOAD_BIT) this.#overloadProtected = true;
    const cut = feetech ? bits & mask & ~FT_OVERLOAD_BIT : bits & mask;
    if (cut) this.set('Torque_Enable', 0);
  }

  /** Feetech: in overload protection (output limited to Protective_Torque). */
  get overloadProtected(): boolean {
    return this.#overloadProtected;
  }

  /** Feetech: a new position command clears the overload flag and leaves protection (datasheet
   * §7-11). Called by the firmware on every write that reaches Goal_Position. */
  clearOverload(): void {
    if (this.vendor !== 'feetech') return;
    this.set('Status', this.get('Status') & ~FT_OVERLOAD_BIT);
    this.#overloadProtected = false;
    this.#overload.reset();
  }

  /** Status ERROR byte this servo puts in every reply right now (vendor-specific meaning). */
  statusErrorBits(): number {
    const hw = this.hardwareError;
    if (this.vendor === 'feetech') return hw & 0x7f;
    return hw !== 0 ? 0x80 : 0;
  }

  /** Reboot: RAM back to power-up values, EEPROM as last persisted, errors cleared. */
  reboot(): void {
    this.update();
    this.memory.set(this.#persisted, 0);
    this.#resetRam();
    this.#vel = 0;
    this.#overload.reset();
    this.#overCurrentTimer.reset();
    this.#overloadProtected = false;
  }

  /** Saves EEPROM so it survives a reboot (Feetech: only while Lock = 0; Dynamixel: always). */
  persistEeprom(): void {
    this.#persisted = this.memory.slice(0, this.model.eepromEnd);
  }

  /** Restores factory values; `keep` names registers to leave as they are (e.g. ID, baud). */
  factoryReset(keep: readonly string[]): void {
    const kept = keep.map((k) => [k, this.get(k)] as const);
    this.#loadFactory();
    for (const [k, v] of kept) this.set(k, v);
    this.persistEeprom();
    this.#resetRam();
  }

  get pendingRegWrite(): { address: number; data: Uint8Array } | undefined {
    return this.#pendingRegWrite;
  }

  set pendingRegWrite(value: { address: number; data: Uint8Array } | undefined) {
    this.#pendingRegWrite = value;
    if (this.vendor === 'dynamixel') this.set('Registered_Instruction', value ? 1 : 0);
  }

  /** Where the servo's position controller is driving the joint, in physical counts. */
  targetCounts(): number {
    if (this.vendor === 'feetech') {
      // The controller compares Goal_Position with Present_Position, both 0…4095 after the homing
      // offset, and drives the direct way between them: never across the 4095 → 0 wrap of that
      // frame (which calibration puts outside the travel), wherever the raw encoder wraps.
      const present = mod(this.#encoderRaw() - this.get('Homing_Offset'), 4096);
      return this.#pos + (this.get('Goal_Position') - present);
    }
    return this.get('Goal_Position') - this.get('Homing_Offset');
  }

  /** Brings physical state and the Present_* registers up to the clock's now. */
  update(): void {
    const now = this.#clock.nowUs();
    let t = this.#lastUs;
    if (now <= t) return;
    if (this.#driver && !this.#positionControl()) {
      const p = this.#clampStops(this.#driver(now));
      this.#vel = ((p - this.#pos) / (now - t)) * 1e6;
      this.#pos = p;
    } else {
      while (t < now) {
        const dt = Math.min(SUBSTEP_US, now - t);
        this.#step(dt / 1e6);
        this.substeps++;
        t += dt;
        // The stall is timed from when it began, not from when someone next asks.
        this.#overload.note(this.#stalledOverThreshold(), t);
        this.#overCurrentTimer.note(this.#overCurrent(), t);
        // At rest nothing changes until a write: skip the rest of an idle gap in one go (a servo
        // left alone for an hour must still answer its first request in microseconds).
        if (this.#vel === 0 && this.#atRest()) break;
      }
    }
    this.#lastUs = now;
    this.#checkOverload(now);
    this.#refreshPresent();
  }

  #maxSpeed(): number {
    const max = this.model.maxSpeedCountsPerS;
    if (this.vendor === 'feetech') {
      const goal = Math.abs(this.get('Goal_Velocity'));
      return goal > 0 ? Math.min(goal, max) : max;
    }
    const profile = this.get('Profile_Velocity') * 15.633; // 0.229 rpm per unit
    return profile > 0 ? Math.min(profile, max) : max;
  }

  #maxAccel(): number {
    const max = this.model.maxAccelCountsPerS2;
    if (this.vendor === 'feetech') {
      const a = this.get('Acceleration') * 100;
      return a > 0 ? Math.min(a, max) : max;
    }
    const a = this.get('Profile_Acceleration') * 244.1; // 214.577 rev/min² per unit
    return a > 0 ? Math.min(a, max) : max;
  }

  #step(dt: number): void {
    const accel = this.#maxAccel();
    let vDesired = 0;
    if (this.#positionControl()) {
      const velocityMode = this.get('Operating_Mode') === 1;
      if (velocityMode) {
        const unit = this.vendor === 'feetech' ? 1 : 15.633;
        vDesired = Math.max(-this.model.maxSpeedCountsPerS, Math.min(this.model.maxSpeedCountsPerS, this.get('Goal_Velocity') * unit));
      } else {
        const e = this.targetCounts() - this.#pos;
        // Inside the dead band (about one count) the controller stops pushing, as real servos do.
        const mag = Math.abs(e) <= DEAD_BAND_COUNTS ? 0 : Math.min(this.#maxSpeed(), Math.sqrt(2 * accel * Math.abs(e)), POSITION_GAIN_PER_S * Math.abs(e));
        vDesired = Math.sign(e) * mag;
      }
    }
    const dv = Math.max(-accel * dt, Math.min(accel * dt, vDesired - this.#vel));
    this.#vel = this.#positionControl() ? this.#vel + dv : this.#vel * Math.max(0, 1 - (this.damping ? 200 : 50) * dt);
    if (Math.abs(this.#vel) < 1e-3) this.#vel = 0;
    this.#pos += this.#vel * dt;
    const stopped = this.#clampStops(this.#pos);
    if (stopped !== this.#pos) {
      this.#pos = stopped;
      this.#vel = 0;
    }
  }

  #atRest(): boolean {
    if (!this.#positionControl()) return true;
    if (this.get('Operating_Mode') === 1) return this.get('Goal_Velocity') === 0;
    const e = this.targetCounts() - this.#pos;
    return Math.abs(e) <= DEAD_BAND_COUNTS || this.#atStop();
  }

  /** Load as a fraction of maximum torque, signed (position error through the P gain, saturating
   * at the output limit: Feetech Torque_Limit, and Protective_Torque while in overload protection;
   * Dynamixel in current-based position mode, Goal_Current within Current_Limit). */
  #loadFraction(): number {
    if (!this.#positionControl()) return 0;
    const e = this.targetCounts() - this.#pos;
    let cap = 1;
    if (this.vendor === 'feetech') {
      cap = Math.min(1, this.get('Torque_Limit') / 1000);
      if (this.#overloadProtected) cap = Math.min(cap, this.get('Protective_Torque') / 100);
    } else if (this.get('Operating_Mode') === DXL_CURRENT_BASED_POSITION && this.spec('Goal_Current')) {
      cap = Math.min(1, Math.min(Math.abs(this.get('Goal_Current')), this.get('Current_Limit')) / DXL_FULL_LOAD_MA);
    }
    return Math.max(-cap, Math.min(cap, e / 100));
  }

  /** Feetech: stalled drawing more than Protection_Current, not already tripped. Stalled, because
   * the sim's load (position error) means a current only at a standstill: a joint moving fast has
   * a large error but no stall current. */
  #overCurrent(): boolean {
    if (this.vendor !== 'feetech' || (this.get('Status') & FT_OVERCURRENT_BIT) !== 0) return false;
    return Math.abs(this.#loadFraction()) * FT_FULL_LOAD_CURRENT > this.get('Protection_Current') && Math.abs(this.#vel) < 1;
  }

  /** Stalled (not moving) with the load at or above the overload threshold, and not already tripped.
   * Feetech: Overload_Torque in %, Dynamixel: OVERLOAD_FRACTION. */
  #stalledOverThreshold(): boolean {
    const feetech = this.vendor === 'feetech';
    if (feetech && (this.get('Status') & FT_OVERLOAD_BIT) !== 0) return false;
    const threshold = feetech ? Math.max(1, this.get('Overload_Torque')) / 100 : OVERLOAD_FRACTION;
    return Math.abs(this.#loadFraction()) >= threshold && Math.abs(this.#vel) < 1;
  }

  #checkOverload(now: number): void {
    // Feetech: Protection_Time in 10 ms units (datasheet default 200: 2 s).
    const holdUs = this.vendor === 'feetech' ? this.get('Protection_Time') * 10_000 : OVERLOAD_US;
    if (this.#overload.trips(this.#stalledOverThreshold(), now, holdUs)) this.injectHardwareError(FT_OVERLOAD_BIT);
    const overCurrentUs = Math.max(1, this.get('Over_Current_Protection_Time')) * 10_000;
    if (this.#overCurrentTimer.trips(this.#overCurrent(), now, overCurrentUs)) this.injectHardwareError(FT_OVERCURRENT_BIT);
  }

  #encoderRaw(): number {
    return mod(Math.round(this.#pos), 4096);
  }

  #refreshPresent(): void {
    const raw = this.#encoderRaw();
    const load = this.#loadFraction();
    const moving = Math.abs(this.#vel) > 20 ? 1 : 0;
    if (this.vendor === 'feetech') {
      this.set('Present_Position', mod(raw - this.get('Homing_Offset'), 4096));
      this.set('Present_Velocity', Math.round(this.#vel));
      this.set('Present_Load', Math.round(load * 1000));
      this.set('Present_Current', Math.round(Math.abs(load) * FT_FULL_LOAD_CURRENT));
      this.set('Moving', moving);
    } else {
      this.set('Present_Position', Math.round(this.#pos) + this.get('Homing_Offset'));
      this.set('Present_Velocity', Math.round(this.#vel / 15.633));
      if (this.spec('Present_Current')) this.set('Present_Current', Math.round(load * DXL_FULL_LOAD_MA));
      else this.set('Present_Load', Math.round(load * 1000));
      this.set('Moving', moving);
      this.set('Realtime_Tick', Math.floor((this.#clock.nowUs() - this.#powerOnUs) / 1000) % 32768);
    }
  }

  #loadFactory(): void {
    this.memory.fill(0);
    for (const [name, value] of Object.entries(this.model.initial)) {
      if (typeof value === 'number') this.set(name, value);
    }
  }

  /** RAM at power-up: factory values, goal = where the joint is (so enabling torque does not jump). */
  #resetRam(): void {
    const eeprom = this.memory.slice(0, this.model.eepromEnd);
    this.#loadFactory();
    this.memory.set(eeprom, 0);
    this.#refreshPresent();
    this.set('Goal_Position', this.get('Present_Position'));
    // Power-up copies: Feetech Torque_Limit from Max_Torque_Limit (PROTOCOLS.md B5); Dynamixel
    // Goal_Current from Current_Limit (unverified: the e-Manual gives no initial value).
    if (this.vendor === 'feetech') this.set('Torque_Limit', this.get('Max_Torque_Limit'));
    else if (this.spec('Goal_Current')) this.set('Goal_Current', this.get('Current_Limit'));
    this.#pendingRegWrite = undefined;
  }
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** How long a protection's condition (a stall over the overload threshold, an over-current) has held, µs of simulated time. */
class ProtectionTimer {
  #sinceUs = -1;

  /** The condition at `nowUs`: timed from when it began; false restarts it. */
  note(active: boolean, nowUs: number): void {
    if (!active) this.#sinceUs = -1;
    else if (this.#sinceUs < 0) this.#sinceUs = nowUs;
  }

  /**
   * Notes the condition and says whether the protection trips now: it has held for `holdUs`. The
   * timer restarts before the caller trips it (tripping updates the servo, which checks again).
   */
  trips(active: boolean, nowUs: number, holdUs: number): boolean {
    if (!active || this.#sinceUs < 0) {
      this.note(active, nowUs);
      return false;
    }
    if (nowUs - this.#sinceUs < holdUs) return false;
    this.#sinceUs = -1;
    return true;
  }

  reset(): void {
    this.#sinceUs = -1;
  }
}
