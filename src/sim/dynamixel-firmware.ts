/**
 * DYNAMIXEL X-series firmware, Protocol 2.0 (PROTOCOLS.md A1–A7): instruction set with the error
 * numbers the e-Manual gives (Access Error for read-only, undefined or torque-locked EEPROM
 * addresses; Data Length Error for partial registers; Data Range / Data Limit errors), Status
 * Return Level, Reg Write / Action, Reboot, Factory Reset, Clear, sync/bulk/fast sync read.
 *
 * Not simulated: Drive_Mode reverse direction, indirect addresses, the Bus Watchdog, and CRC-error
 * replies (a packet with a bad CRC is dropped, as the servo cannot trust its id either).
 */
import {
  DXL_BROADCAST_ID,
  DynamixelFramer,
  DxlInstruction,
  X_BAUD_RATES,
  dxl,
  encodeDxlFastSyncStatus,
  readUint,
} from '../protocol/index.ts';
import { applyReplyFaults, touchedRegisters, type Firmware, type SimInstruction, type SimReply } from './firmware.ts';
import type { SimServo } from './sim-servo.ts';

const ERR_RESULT_FAIL = 1;
const ERR_INSTRUCTION = 2;
const ERR_DATA_RANGE = 4;
const ERR_DATA_LENGTH = 5;
const ERR_DATA_LIMIT = 6;
const ERR_ACCESS = 7;

const OPERATING_MODES: Readonly<Record<string, readonly number[]>> = {
  'xl430-w250': [1, 3, 4, 16],
};

const u16 = (p: Uint8Array, o: number) => readUint(p, o, 2, 'little');

export class DynamixelFirmware implements Firmware {
  createReader() {
    const framer = new DynamixelFramer();
    return {
      append: (chunk: Uint8Array) => framer.append(chunk),
      next: (): SimInstruction | undefined => {
        for (let p = framer.next(); p; p = framer.next()) {
          if (p.instruction !== DxlInstruction.Status) return { id: p.id, instruction: p.instruction, params: p.params };
        }
        return undefined;
      },
    };
  }

  baudOf(servo: SimServo): number {
    return X_BAUD_RATES[servo.get('Baud_Rate')] ?? 57_600;
  }

  handle(packet: SimInstruction, servos: readonly SimServo[]): SimReply[] {
    const { id, instruction, params } = packet;
    const live = servos.filter((s) => !s.faults.silent);
    const broadcast = id === DXL_BROADCAST_ID;
    const find = (sid: number) => live.find((s) => s.id === sid);
    const target = broadcast ? undefined : find(id);
    const replies: SimReply[] = [];
    /** level: the Status Return Level at which this reply is sent (0 ping, 1 read, 2 everything). */
    const reply = (s: SimServo, error: number, data: ArrayLike<number> = [], level = 2, replyId = s.id, baud = this.baudOf(s)) => {
      if (level > 0 && s.get('Status_Return_Level') < level) return;
      const bytes = dxl.status(replyId, error | s.statusErrorBits(), data);
      replies.push({ servo: s, bytes: applyReplyFaults(s, bytes), baud });
    };

    switch (instruction) {
      case DxlInstruction.Ping: {
        const who = broadcast ? [...live].sort((a, b) => a.id - b.id) : target ? [target] : [];
        for (const s of who) reply(s, 0, [s.model.modelNumber & 0xff, s.model.modelNumber >> 8, s.get('Firmware_Version')], 0);
        return replies;
      }
      case DxlInstruction.Read: {
        if (!target || params.length < 4) return replies;
        const [address, length] = [u16(params, 0), u16(params, 2)];
        const { error, data } = this.#read(target, address, length);
        reply(target, error, data, 1);
        return replies;
      }
      case DxlInstruction.Write:
      case DxlInstruction.RegWrite: {
        if (params.length < 2) return replies;
        const address = u16(params, 0);
        const data = params.subarray(2);
        const who = broadcast ? live : target ? [target] : [];
        for (const s of who) {
          const [oldId, baud] = [s.id, this.baudOf(s)];
          let error = this.#check(s, address, data);
          if (error === 0) {
            if (instruction === DxlInstruction.Write) error = this.#write(s, address, data);
            else s.pendingRegWrite = { address, data: data.slice() };
          }
          if (!broadcast) reply(s, error, [], 2, oldId, baud);
        }
        return replies;
      }
      case DxlInstruction.Action: {
        const who = broadcast ? live : target ? [target] : [];
        for (const s of who) {
          const pending = s.pendingRegWrite;
          s.pendingRegWrite = undefined;
          const error = pending ? this.#write(s, pending.address, pending.data) : ERR_INSTRUCTION;
          if (!broadcast) reply(s, error);
        }
        return replies;
      }
      case DxlInstruction.Reboot: {
        if (target) {
          reply(target, 0);
          target.reboot();
        }
        return replies;
      }
      case DxlInstruction.FactoryReset: {
        const option = params[0] ?? 0xff;
        if (broadcast && option === 0xff) return replies; // ignored on X-series firmware ≥ 42
        const who = broadcast ? live : target ? [target] : [];
        for (const s of who) {
          if (!broadcast) reply(s, 0);
          const keep = option === 0x01 ? ['ID'] : option === 0x02 ? ['ID', 'Baud_Rate'] : [];
          s.factoryReset(keep);
        }
        return replies;
      }
      case DxlInstruction.Clear: {
        if (target) reply(target, Math.abs(target.velocityCountsPerS) > 20 ? ERR_RESULT_FAIL : 0);
        return replies;
      }
      case DxlInstruction.SyncRead:
      case DxlInstruction.FastSyncRead: {
        if (!broadcast || params.length < 4) return replies;
        const [address, length] = [u16(params, 0), u16(params, 2)];
        const listed = Array.from(params.subarray(4));
        if (instruction === DxlInstruction.SyncRead) {
          for (const sid of listed) {
            const s = find(sid);
            if (!s) continue;
            const { error, data } = this.#read(s, address, length);
            reply(s, error, data, 1);
          }
          return replies;
        }
        // Fast Sync Read: the listed servos build one packet together; a missing one breaks it.
        const parts = listed.map(find);
        if (parts.some((s) => s === undefined) || parts.length === 0) return replies;
        const entries = (parts as SimServo[]).map((s) => {
          const { error, data } = this.#read(s, address, length);
          return { id: s.id, error: error | s.statusErrorBits(), data: data.length === length ? data : new Uint8Array(length) };
        });
        const last = parts[parts.length - 1]!;
        replies.push({ servo: last, bytes: applyReplyFaults(last, encodeDxlFastSyncStatus(entries, length)), baud: this.baudOf(last) });
        return replies;
      }
      case DxlInstruction.SyncWrite: {
        if (!broadcast || params.length < 4) return replies;
        const [address, length] = [u16(params, 0), u16(params, 2)];
        for (let o = 4; o + 1 + length <= params.length; o += 1 + length) {
          const s = find(params[o]!);
          const data = params.subarray(o + 1, o + 1 + length);
          if (s && this.#check(s, address, data) === 0) this.#write(s, address, data);
        }
        return replies;
      }
      case DxlInstruction.BulkRead: {
        if (!broadcast) return replies;
        for (let o = 0; o + 5 <= params.length; o += 5) {
          const s = find(params[o]!);
          if (!s) continue;
          const { error, data } = this.#read(s, u16(params, o + 1), u16(params, o + 3));
          reply(s, error, data, 1);
        }
        return replies;
      }
      case DxlInstruction.BulkWrite: {
        if (!broadcast) return replies;
        for (let o = 0; o + 5 <= params.length; ) {
          const s = find(params[o]!);
          const address = u16(params, o + 1);
          const length = u16(params, o + 3);
          const data = params.subarray(o + 5, o + 5 + length);
          if (s && this.#check(s, address, data) === 0) this.#write(s, address, data);
          o += 5 + length;
        }
        return replies;
      }
      default: {
        if (target) reply(target, ERR_INSTRUCTION);
        return replies;
      }
    }
  }

  #read(s: SimServo, address: number, length: number): { error: number; data: Uint8Array } {
    if (length === 0 || address + length > s.model.memorySize) return { error: ERR_ACCESS, data: new Uint8Array(0) };
    s.update();
    return { error: 0, data: s.memory.slice(address, address + length) };
  }

  /** Access, length and range rules; returns an error number (0 = the write may proceed). */
  #check(s: SimServo, address: number, data: Uint8Array): number {
    if (data.length === 0) return ERR_DATA_LENGTH;
    const touched = touchedRegisters(s, address, data.length);
    // Every byte must belong to a defined register.
    for (let a = address; a < address + data.length; a++) {
      const defined = Object.values(s.model.table).some((r) => r && a >= r.address && a < r.address + r.size);
      if (!defined) return ERR_ACCESS;
    }
    for (const t of touched) {
      const spec = s.spec(t.name)!;
      if (spec.access === 'r') return ERR_ACCESS;
      if (spec.address < s.model.eepromEnd && s.torqueEnabled) return ERR_ACCESS;
      if (!t.whole) return ERR_DATA_LENGTH;
    }
    // Value rules, on a scratch copy of memory.
    const scratch = s.memory.slice();
    scratch.set(data, address);
    const value = (name: string) => {
      const spec = s.spec(name)!;
      let v = readUint(scratch, spec.address, spec.size, 'little');
      if (spec.signed && v >= 2 ** (8 * spec.size - 1)) v -= 2 ** (8 * spec.size);
      return v;
    };
    const names = touched.map((t) => t.name);
    if (names.includes('ID') && value('ID') > 252) return ERR_DATA_RANGE;
    if (names.includes('Baud_Rate') && X_BAUD_RATES[value('Baud_Rate')] === undefined) return ERR_DATA_RANGE;
    if (names.includes('Operating_Mode')) {
      const allowed = OPERATING_MODES[s.model.name] ?? [0, 1, 3, 4, 5, 16];
      if (!allowed.includes(value('Operating_Mode'))) return ERR_DATA_RANGE;
    }
    // Goal Current's range is ±Current_Limit (e-Manual); LeRobot never writes it, armbridge's Koch gripper does.
    if (names.includes('Goal_Current') && Math.abs(value('Goal_Current')) > value('Current_Limit')) return ERR_DATA_LIMIT;
    if (names.includes('Goal_Position') && value('Operating_Mode') === 3) {
      const goal = value('Goal_Position');
      if (goal < value('Min_Position_Limit') || goal > value('Max_Position_Limit')) return ERR_DATA_LIMIT;
    }
    return 0;
  }

  #write(s: SimServo, address: number, data: Uint8Array): number {
    s.update();
    const wasTorque = s.torqueEnabled;
    const kept = s.faults.ignoredWrites.map((n) => [n, s.get(n)] as const);
    s.memory.set(data, address);
    for (const [n, v] of kept) s.set(n, v);
    // Torque cannot come on while a hardware error is latched (only a reboot clears it).
    if (!wasTorque && s.torqueEnabled && s.hardwareError !== 0) s.set('Torque_Enable', 0);
    if (address < s.model.eepromEnd) s.persistEeprom();
    return 0;
  }
}
