/**
 * Feetech SCS/STS servo firmware (PROTOCOLS.md B1–B8): what a real STS3215 bus answers, including
 * what LeRobot's connect/calibrate/configure sequence needs (B8).
 *
 * Choices where Feetech documents nothing (marked "unverified" in PROTOCOLS.md): writes to read-only
 * bytes are ignored and acknowledged with ERROR 0; EEPROM writes while Lock = 1 apply but are not
 * persisted across a reboot; Goal_Position is clamped into [Min_Position_Limit, Max_Position_Limit]
 * unless both are 0 (multi-turn); broadcast Ping is answered by every servo in id order.
 */
import { FT_BROADCAST_ID, FeetechFramer, FtInstruction, STS_BAUD_RATES, STS_TABLE, ft } from '../protocol/index.ts';
import { applyReplyFaults, type Firmware, type SimInstruction, type SimReply } from './firmware.ts';
import type { SimServo } from './sim-servo.ts';

function byId(servos: readonly SimServo[], id: number): SimServo | undefined {
  return servos.find((s) => s.id === id && !s.faults.silent);
}

export class FeetechFirmware implements Firmware {
  createReader() {
    const framer = new FeetechFramer();
    return {
      append: (chunk: Uint8Array) => framer.append(chunk),
      next: (): SimInstruction | undefined => {
        const p = framer.next();
        return p && { id: p.id, instruction: p.code, params: p.params };
      },
    };
  }

  baudOf(servo: SimServo): number {
    return STS_BAUD_RATES[servo.get('Baud_Rate')] ?? 1_000_000;
  }

  handle(packet: SimInstruction, servos: readonly SimServo[]): SimReply[] {
    const { id, instruction, params } = packet;
    const broadcast = id === FT_BROADCAST_ID;
    const targets = broadcast ? servos.filter((s) => !s.faults.silent) : [byId(servos, id)].filter((s) => s !== undefined);
    const replies: SimReply[] = [];
    const reply = (servo: SimServo, data: ArrayLike<number> = [], always = false, replyId = servo.id) => {
      if (!always && servo.get('Response_Status_Level') === 0) return;
      servo.update();
      const bytes = ft.status(replyId, servo.statusErrorBits(), data);
      replies.push({ servo, bytes: applyReplyFaults(servo, bytes), baud: this.baudOf(servo) });
    };

    switch (instruction) {
      case FtInstruction.Ping: {
        for (const s of [...targets].sort((a, b) => a.id - b.id)) reply(s, [], true);
        return replies;
      }
      case FtInstruction.Read: {
        const s = targets[0];
        if (broadcast || !s || params.length < 2) return replies;
        reply(s, readMemory(s, params[0]!, params[1]!), true);
        return replies;
      }
      case FtInstruction.Write:
      case FtInstruction.RegWrite: {
        if (params.length < 2) return replies;
        for (const s of targets) {
          const oldId = s.id;
          const baud = this.baudOf(s);
          if (instruction === FtInstruction.Write) writeMemory(s, params[0]!, params.subarray(1));
          else s.pendingRegWrite = { address: params[0]!, data: params.slice(1) };
          if (!broadcast && s.get('Response_Status_Level') !== 0) {
            const bytes = ft.status(oldId, s.statusErrorBits());
            replies.push({ servo: s, bytes: applyReplyFaults(s, bytes), baud });
          }
        }
        return replies;
      }
      case FtInstruction.Action: {
        for (const s of targets) {
          const pending = s.pendingRegWrite;
          if (pending) writeMemory(s, pending.address, pending.data);
          s.pendingRegWrite = undefined;
          if (!broadcast) reply(s);
        }
        return replies;
      }
      case FtInstruction.SyncRead: {
        if (!broadcast || params.length < 2) return replies;
        const [address, length] = [params[0]!, params[1]!];
        for (const listed of params.subarray(2)) {
          const s = byId(servos, listed);
          if (s) reply(s, readMemory(s, address, length), true);
        }
        return replies;
      }
      case FtInstruction.SyncWrite: {
        if (!broadcast || params.length < 2) return replies;
        const [address, length] = [params[0]!, params[1]!];
        for (let o = 2; o + 1 + length <= params.length; o += 1 + length) {
          const s = byId(servos, params[o]!);
          if (s) writeMemory(s, address, params.subarray(o + 1, o + 1 + length));
        }
        return replies;
      }
      case FtInstruction.Reset: {
        for (const s of targets) if (!broadcast) reply(s);
        return replies;
      }
      case FtInstruction.FactoryReset: {
        for (const s of targets) {
          s.factoryReset(['ID']);
          if (!broadcast) reply(s);
        }
        return replies;
      }
      case FtInstruction.Reboot: {
        for (const s of targets) s.reboot();
        return replies;
      }
      default:
        return replies;
    }
  }
}

function readMemory(servo: SimServo, address: number, length: number): Uint8Array {
  servo.update();
  const out = new Uint8Array(length);
  out.set(servo.memory.subarray(address, Math.min(servo.memory.length, address + length)));
  return out;
}

const GOAL_POSITION = STS_TABLE.Goal_Position;

function writeMemory(servo: SimServo, address: number, data: Uint8Array): void {
  servo.update();
  // A new position command clears an overload (ST-3215 datasheet §7-11; sim-servo.ts header).
  if (address < GOAL_POSITION.address + GOAL_POSITION.size && address + data.length > GOAL_POSITION.address) servo.clearOverload();
  const table = Object.values(servo.model.table);
  const ignored = servo.faults.ignoredWrites.map((n) => servo.spec(n)).filter((r) => r !== undefined);
  const writable = (addr: number) =>
    table.some((r) => r && r.access === 'rw' && addr >= r.address && addr < r.address + r.size) && !ignored.some((r) => addr >= r.address && addr < r.address + r.size);
  let eeprom = false;
  for (let i = 0; i < data.length; i++) {
    const addr = address + i;
    if (addr >= servo.memory.length || !writable(addr)) continue;
    servo.memory[addr] = data[i]!;
    if (addr < servo.model.eepromEnd) eeprom = true;
  }
  if (eeprom && servo.get('Lock') === 0) servo.persistEeprom();
  clampGoal(servo);
}

function clampGoal(servo: SimServo): void {
  const min = servo.get('Min_Position_Limit');
  const max = servo.get('Max_Position_Limit');
  if (min === 0 && max === 0) return;
  const goal = servo.get('Goal_Position');
  if (goal < min) servo.set('Goal_Position', min);
  else if (goal > max) servo.set('Goal_Position', max);
}
