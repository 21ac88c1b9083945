/**
 * The wire of a simulated servo bus: bytes the host sends reach the servos after their wire time
 * (10 bits per byte at the baud rate), each servo answers after its return delay plus a processing
 * time, and replies follow each other on the half-duplex line without colliding. Replies reach the
 * host when their last byte has crossed the wire. Servos listening at another baud rate than the
 * host hear nothing (and the host hears nothing from them), as on a real bus.
 *
 * A host is anything that can take delivered bytes: the in-process serialport binding
 * (sim-binding.ts) or a pty served through socat (pty-server.ts).
 */
import { byteTimeUs } from '../protocol/index.ts';
import { realClock, type SimClock } from './clock.ts';
import { DynamixelFirmware } from './dynamixel-firmware.ts';
import { FeetechFirmware } from './feetech-firmware.ts';
import type { Firmware } from './firmware.ts';
import { PreciseScheduler } from './precise-scheduler.ts';
import type { SimServo } from './sim-servo.ts';

export interface SimHost {
  deliver(bytes: Uint8Array): void;
  /** The cable was pulled: fail pending and later I/O. */
  disconnect(): void;
}

export interface SimBusOptions {
  readonly vendor: 'feetech' | 'dynamixel';
  readonly servos: readonly SimServo[];
  readonly clock?: SimClock;
  /** Time a servo takes to decode an instruction before its return delay starts, µs. */
  readonly processingUs?: number;
}

export interface SimBusStats {
  instructions: number;
  replies: number;
  bytesToServos: number;
  bytesToHost: number;
}

/** Host baud `'match'`: the host's rate is unknown (a pty carries no baud) and taken to match every servo. */
export type HostBaud = number | 'match';

export class SimBus {
  readonly vendor: 'feetech' | 'dynamixel';
  readonly servos: readonly SimServo[];
  readonly clock: SimClock;
  readonly stats: SimBusStats = { instructions: 0, replies: 0, bytesToServos: 0, bytesToHost: 0 };
  /** Half-duplex adapters without echo cancelling give the host its own bytes back. */
  echo = false;
  readonly #firmware: Firmware;
  readonly #scheduler: PreciseScheduler;
  readonly #processingUs: number;
  readonly #readers = new Map<string, ReturnType<Firmware['createReader']>>();
  #host: SimHost | undefined;
  #lineFreeAtUs = 0;
  #disconnected = false;
  #closed = false;

  constructor(options: SimBusOptions) {
    this.vendor = options.vendor;
    this.servos = options.servos;
    this.clock = options.clock ?? realClock;
    this.#processingUs = options.processingUs ?? 20;
    this.#firmware = options.vendor === 'feetech' ? new FeetechFirmware() : new DynamixelFirmware();
    this.#scheduler = new PreciseScheduler(this.clock);
  }

  servo(id: number): SimServo {
    const s = this.servos.find((x) => x.id === id);
    if (!s) throw new RangeError(`no simulated servo with id ${id} on this bus`);
    return s;
  }

  baudOf(servo: SimServo): number {
    return this.#firmware.baudOf(servo);
  }

  get disconnected(): boolean {
    return this.#disconnected;
  }

  /** Connects a host (one at a time, like a serial port opened exclusively). */
  attach(host: SimHost): void {
    if (this.#host) throw new Error('simulated bus already has a host attached');
    if (this.#disconnected) throw new Error('simulated bus is unplugged');
    this.#host = host;
  }

  detach(host: SimHost): void {
    if (this.#host === host) this.#host = undefined;
    this.#readers.clear();
  }

  /** Bytes from the host enter the wire now, at `hostBaud`. */
  hostWrite(bytes: Uint8Array, hostBaud: HostBaud): void {
    if (this.#disconnected || this.#closed) return;
    const now = this.clock.nowUs();
    const wireBaud = hostBaud === 'match' ? this.baudOf(this.servos[0]!) : hostBaud;
    const start = Math.max(now, this.#lineFreeAtUs);
    const end = start + bytes.length * byteTimeUs(wireBaud);
    this.#lineFreeAtUs = end;
    // A copy: callers pass views of buffers they reuse (Buffer#slice would not copy).
    const copy = new Uint8Array(bytes);
    this.stats.bytesToServos += copy.length;
    if (this.echo) this.#deliverAt(end, copy);
    this.#scheduler.at(end, () => this.#receive(copy, hostBaud, end));
  }

  /** Noise on the line: bytes the host receives that no servo sent. */
  injectNoise(bytes: Uint8Array): void {
    this.#deliverAt(this.clock.nowUs(), new Uint8Array(bytes));
  }

  /** Pull the cable: the host's pending and future I/O fail. */
  disconnect(): void {
    this.#disconnected = true;
    this.#scheduler.close();
    const host = this.#host;
    this.#host = undefined;
    host?.disconnect();
  }

  close(): void {
    this.#closed = true;
    this.#scheduler.close();
    this.#host = undefined;
  }

  /** Deliveries in flight on the wire (to the servos or back to the host), not yet handled. */
  get inFlight(): number {
    return this.#scheduler.pending;
  }

  /** Time at which the line is idle again (for drain()). */
  get lineFreeAtUs(): number {
    return this.#lineFreeAtUs;
  }

  /**
   * The instruction's last byte reached the servos at `arrivedUs`. Replies are timed from then, not
   * from when this ran: the simulator's own CPU time (or a busy thread) must not lengthen the
   * modelled exchange. A reply whose time has already passed is delivered at once.
   */
  #receive(bytes: Uint8Array, hostBaud: HostBaud, arrivedUs: number): void {
    // One instruction reader per baud rate: servos only decode bytes sent at their own rate.
    const groups = new Map<number, SimServo[]>();
    for (const s of this.servos) {
      const b = this.baudOf(s);
      if (hostBaud !== 'match' && b !== hostBaud) continue;
      const g = groups.get(b);
      if (g) g.push(s);
      else groups.set(b, [s]);
    }
    for (const [baud, servos] of groups) {
      const key = String(baud);
      let reader = this.#readers.get(key);
      if (!reader) {
        reader = this.#firmware.createReader();
        this.#readers.set(key, reader);
      }
      reader.append(bytes);
      for (let p = reader.next(); p; p = reader.next()) {
        this.stats.instructions++;
        const replies = this.#firmware.handle(p, servos);
        let t = arrivedUs;
        for (const r of replies) {
          const delay = this.#processingUs + 2 * r.servo.get('Return_Delay_Time');
          const start = Math.max(t + delay, this.#lineFreeAtUs);
          const end = start + r.bytes.length * byteTimeUs(r.baud);
          this.#lineFreeAtUs = end;
          t = end;
          this.stats.replies++;
          // A host listening at another rate hears no valid bytes.
          if (hostBaud === 'match' || r.baud === hostBaud) this.#deliverAt(end, r.bytes);
        }
      }
    }
  }

  #deliverAt(atUs: number, bytes: Uint8Array): void {
    this.#scheduler.at(atUs, () => {
      this.stats.bytesToHost += bytes.length;
      this.#host?.deliver(bytes);
    });
  }
}
