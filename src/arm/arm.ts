/**
 * Arm: named joints over a MotorBus, in calibrated units (radians; gripper 0…1). One sync read per
 * `read()`, one sync write per `write()`. Opening checks that every servo is there and is the model
 * the profile says, and writes the calibration (homing offset, position limits) into the servos so
 * they refuse out-of-range goals on their own too, then the profile's servo settings (gains, the
 * gripper's torque and current limits; profiles.ts), read back and verified. Closing turns torque off (unless told not to)
 * and always releases the port.
 *
 *   await using arm = await Arm.open({ profile, calibration, path: '/dev/ttyACM0' });
 *   const q = await arm.read();
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import { MotorBus, type CallOptions, type MotorBusOptions } from '../bus/motor-bus.ts';
import { ServoTimeoutError } from '../bus/errors.ts';
import { namedError } from '../errors.ts';
import type { RegisterSpec, ServoModelName, Vendor } from '../protocol/index.ts';
import { checkCalibration, JointConverter, type Calibration } from './calibration.ts';
import { ArmMismatchError } from './errors.ts';
import type { ArmProfile } from './profiles.ts';
import type { SafeCommand } from './safe-command.ts';
import { resolveServoSettings, verifyServoSettings, writeServoSettings, type ResolvedServoSetting, type ServoSettingOverride } from './servo-settings.ts';

/** Both protocols use 0xFE as the broadcast id. */
const BROADCAST_ID = 0xfe;

export interface OpenArmOptions {
  readonly profile: ArmProfile;
  readonly calibration: Calibration;
  readonly path: string;
  readonly binding?: BindingInterface;
  readonly bus?: Partial<Pick<MotorBusOptions<Vendor>, 'timeoutMs' | 'retries'>>;
  /** Write the calibration, return delay 0 and the profile's servo settings into the servos. Default true. */
  readonly configure?: boolean;
  /** Replace (or add to) the profile's servo settings, e.g. `{ joint: 'gripper', register: 'Max_Torque_Limit', value: 400 }`. */
  readonly servoSettings?: readonly ServoSettingOverride[];
}

export class Arm {
  readonly profile: ArmProfile;
  readonly bus: MotorBus<Vendor>;
  readonly names: readonly string[];
  readonly ids: readonly number[];
  readonly joints: readonly JointConverter[];
  /** Calibrated limits in units, joint order. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  #closing: Promise<void> | undefined;

  private constructor(profile: ArmProfile, calibration: Calibration, bus: MotorBus<Vendor>) {
    this.profile = profile;
    this.bus = bus;
    this.names = profile.joints.map((j) => j.name);
    this.ids = profile.joints.map((j) => j.id);
    this.joints = profile.joints.map((j) => new JointConverter(j, calibration.joints[j.name]!));
    this.lower = Float64Array.from(this.joints, (j) => j.lower);
    this.upper = Float64Array.from(this.joints, (j) => j.upper);
  }

  /**
   * Opens the port, checks the calibration against the profile (CalibrationMismatchError naming the
   * joint) and the servos against the profile (ArmMismatchError), then configures the servos:
   * ServoSettingRefusedError / ServoSettingMismatchError when a servo refuses a setting or does not
   * hold it when read back. The port is released on every failure. An armbridge error raised while
   * opening keeps its class and code, and its message starts with the arm's role and port
   * ("follower on /dev/ttyACM0: …"): with two arms, the person knows which.
   */
  static async open(options: OpenArmOptions): Promise<Arm> {
    try {
      return await Arm.#open(options);
    } catch (e) {
      throw namedError(e, `${options.profile.role} on ${options.path}`);
    }
  }

  static async #open(options: OpenArmOptions): Promise<Arm> {
    const { profile, calibration } = options;
    checkCalibration(calibration, profile);
    // Bad overrides fail before the port is touched.
    const settings = resolveServoSettings(profile, options.servoSettings);
    const models: Record<number, ServoModelName> = {};
    for (const j of profile.joints) models[j.id] = j.model;
    const bus = await MotorBus.open({ path: options.path, binding: options.binding, vendor: profile.vendor, baud: profile.baud, models, ...options.bus });
    try {
      const arm = new Arm(profile, calibration, bus);
      await arm.#verifyServos();
      if (options.configure ?? true) await arm.#configure(calibration, settings);
      return arm;
    } catch (e) {
      await bus.close();
      throw e;
    }
  }

  get size(): number {
    return this.names.length;
  }

  /** Present positions in calibrated units, joint order (one sync read). */
  async read(out: Float64Array = new Float64Array(this.size), call?: CallOptions): Promise<Float64Array> {
    const ticks = await this.bus.syncRead('Present_Position', this.ids, call);
    for (let i = 0; i < this.size; i++) out[i] = this.joints[i]!.toUnits(ticks[i]!);
    return out;
  }

  /** Raw Present_Position ticks, joint order. */
  async readTicks(call?: CallOptions): Promise<number[]> {
    return this.bus.syncRead('Present_Position', this.ids, call);
  }

  /** Goal positions in calibrated units (one sync write). Only filtered commands are accepted. */
  async write(command: SafeCommand): Promise<void> {
    const entries: [number, number][] = new Array(this.size);
    for (let i = 0; i < this.size; i++) entries[i] = [this.ids[i]!, this.joints[i]!.toTicks(command[i]!)];
    await this.bus.syncWrite('Goal_Position', entries);
  }

  /**
   * Torque on without a jump: the goal registers are first set to where each joint is (clamped
   * into its calibrated range), so the servos hold their pose. Returns that pose in units.
   */
  async enableTorqueHolding(): Promise<Float64Array> {
    const ticks = await this.readTicks();
    const held = ticks.map((t, i) => Math.min(this.joints[i]!.rangeMax, Math.max(this.joints[i]!.rangeMin, t)));
    await this.bus.syncWrite('Goal_Position', held.map((t, i) => [this.ids[i]!, t] as const));
    await this.setTorque(true);
    return Float64Array.from(held, (t, i) => this.joints[i]!.toUnits(t));
  }

  /**
   * Cuts torque on every servo, even when some do not answer: a broadcast write first (no replies,
   * one packet reaches every servo), then each servo individually, best effort. Never throws.
   */
  async torqueOffAll(): Promise<void> {
    const torque = (this.bus.modelOf(this.ids[0]!).table as Partial<Record<string, RegisterSpec>>).Torque_Enable;
    if (torque) await this.bus.writeRaw(BROADCAST_ID, torque.address, [0]).catch(() => undefined);
    for (const id of this.ids) await this.bus.write(id, 'Torque_Enable', 0, { timeoutMs: 20, retries: 0 }).catch(() => undefined);
  }

  async setTorque(on: boolean): Promise<void> {
    for (const id of this.ids) await this.bus.write(id, 'Torque_Enable', on ? 1 : 0);
  }

  /** Turns torque off (unless `torqueOff: false`) and releases the port; idempotent, never throws for torque-off failures. */
  close(options: { torqueOff?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if ((options.torqueOff ?? true) && this.bus.isOpen) await this.torqueOffAll();
      } finally {
        await this.bus.close();
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #verifyServos(): Promise<void> {
    for (const j of this.profile.joints) {
      let found;
      try {
        found = await this.bus.ping(j.id);
      } catch (e) {
        if (e instanceof ServoTimeoutError) throw new ArmMismatchError(j.name, `servo id ${j.id} does not answer`);
        throw e;
      }
      if (found.model !== j.model) {
        throw new ArmMismatchError(j.name, `servo id ${j.id} is a ${found.model ?? `model ${found.modelNumber}`}, the ${this.profile.kind} profile expects a ${j.model}`);
      }
    }
  }

  /**
   * EEPROM writes happen with torque off (Dynamixel refuses them otherwise) and, on Feetech, with
   * Lock 0 (else they are not saved), then relocked; RAM settings follow, after the EEPROM ones
   * they may depend on (Goal_Current within Current_Limit, gains after Operating_Mode).
   */
  async #configure(calibration: Calibration, settings: readonly ResolvedServoSetting[]): Promise<void> {
    const feetech = this.profile.vendor === 'feetech';
    for (const j of this.profile.joints) {
      const cal = calibration.joints[j.name]!;
      await this.bus.write(j.id, 'Torque_Enable', 0);
      if (feetech) await this.bus.write(j.id, 'Lock', 0);
      try {
        await this.bus.write(j.id, 'Return_Delay_Time', 0);
        await this.bus.write(j.id, 'Homing_Offset', cal.homing_offset);
        await this.bus.write(j.id, 'Min_Position_Limit', cal.range_min);
        await this.bus.write(j.id, 'Max_Position_Limit', cal.range_max);
        await writeServoSettings(this.bus, settings, { eeprom: true, joint: j.name });
      } catch (e) {
        // Relock on the way out, best effort: the original error is the one to report.
        if (feetech) await this.bus.write(j.id, 'Lock', 1).catch(() => undefined);
        throw e;
      }
      if (feetech) await this.bus.write(j.id, 'Lock', 1);
    }
    await writeServoSettings(this.bus, settings, { eeprom: false });
    await verifyServoSettings(this.bus, settings);
  }
}
