/**
 * MotorBus: servo transactions over a serial port (any serialport binding: the OS port, a pty, or
 * the in-process simulator). One transaction at a time (a mutex), a per-attempt timeout, bounded
 * retries on timeouts and corrupted replies (one bad packet must not end a run), typed errors, and
 * health counters per servo.
 *
 *   await using bus = await MotorBus.open({ path: '/dev/ttyACM0', vendor: 'feetech', baud: 1_000_000 });
 *   await bus.write(1, 'Torque_Enable', 1);
 *   const positions = await bus.syncRead('Present_Position', [1, 2, 3, 4, 5, 6]);
 */
import type { BindingInterface } from '@serialport/bindings-interface';
import { SerialPortStream } from '@serialport/stream';
import { InvalidArgumentError } from '../errors.ts';
import {
  SERVO_MODELS,
  byteTimeUs,
  bytesEqual,
  codecFor,
  decodeRegister,
  encodeRegister,
  isServoModelName,
  type Frame,
  type FrameReader,
  type ProtocolCodec,
  type RegisterSpec,
  type ServoModel,
  type ServoModelName,
  type StsRegister,
  type Vendor,
  type XRegister,
} from '../protocol/index.ts';
import { ChecksumError, PortClosedError, PortOpenError, RegisterValueError, ServoStatusError, ServoTimeoutError, UnknownRegisterError } from './errors.ts';
import { newServoHealth, type BusHealth, type ServoHealth } from './health.ts';
import { Mutex } from './mutex.ts';

export type RegisterOf<V extends Vendor> = V extends 'feetech' ? StsRegister : XRegister;

export interface MotorBusOptions<V extends Vendor> {
  readonly vendor: V;
  /** Line rate, bits/s (for wire-time estimates; the port is opened at this rate). */
  readonly baud: number;
  /** Servo model per id; ids not listed are taken to be `defaultModel`. */
  readonly models?: Readonly<Record<number, ServoModelName>>;
  /** Model assumed for ids not in `models` (sts3215 for Feetech, xl330-m288 for Dynamixel). */
  readonly defaultModel?: ServoModelName;
  /** Per-attempt timeout on top of the expected wire time, ms. Default 50 (USB adapters add latency). */
  readonly timeoutMs?: number;
  /** Extra attempts after a timeout or a corrupted reply. Default 2. */
  readonly retries?: number;
}

export interface OpenMotorBusOptions<V extends Vendor> extends MotorBusOptions<V> {
  readonly path: string;
  /** serialport binding; default: the OS serial ports (@serialport/bindings-cpp). */
  readonly binding?: BindingInterface;
  /**
   * After opening, the input is flushed and bytes arriving for this long are dropped, ms. Default 10.
   * A process killed mid-transaction leaves its last replies on the line (a pty or USB adapter buffers
   * them); taken as answers to our first requests they would shift every reply by one.
   */
  readonly settleMs?: number;
}

/** Per-call overrides of the bus defaults. */
export interface CallOptions {
  readonly timeoutMs?: number;
  readonly retries?: number;
  /**
   * Called once per attempt of a request with several replies, when every reply but the last has
   * arrived and the last has not: it is then about one reply's wire time away (≈ 100 µs at 1 Mbaud).
   * Work done here overlaps the wire; the deployment loop runs the policy once on the last
   * observation, so its code is in the core's caches when the reply comes (control/onnx-policy.ts).
   * Not called when the replies arrive together (a USB adapter's latency timer). It must not throw.
   */
  readonly beforeLastReply?: () => void;
}

export interface PingResult {
  readonly id: number;
  readonly modelNumber: number;
  /** Our name for the model, when we know it. */
  readonly model: ServoModelName | undefined;
  readonly firmware: string;
}

interface Transaction {
  readonly ids: readonly number[];
  readonly replies: Frame[];
  readonly collectAll: boolean;
  readonly expectedBytes: number;
  checksumBase: number;
  corruptedId: number;
  resolve: (frames: Frame[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  startedUs: number;
  beforeLastReply: (() => void) | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const nowUs = () => performance.now() * 1000;

export class MotorBus<V extends Vendor = Vendor> {
  readonly vendor: V;
  readonly path: string;
  readonly health: BusHealth = { servos: new Map(), strayPackets: 0, echoes: 0 };
  readonly #port: SerialPortStream;
  readonly #codec: ProtocolCodec;
  readonly #reader: FrameReader;
  readonly #mutex = new Mutex();
  readonly #models: Readonly<Record<number, ServoModelName>>;
  readonly #defaultModel: ServoModel;
  readonly #timeoutMs: number;
  readonly #retries: number;
  #baud: number;
  #lastTx: Uint8Array | undefined;
  #active: Transaction | undefined;
  #closed: PortClosedError | undefined;
  #closing: Promise<void> | undefined;

  /** Opens `path` with `binding` (default: the OS ports) and returns a bus over it. */
  static async open<V extends Vendor>(options: OpenMotorBusOptions<V>): Promise<MotorBus<V>> {
    const binding = options.binding ?? (await import('@serialport/bindings-cpp')).autoDetect();
    const port = new SerialPortStream({ binding, path: options.path, baudRate: options.baud, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new PortOpenError(options.path, { cause: err })) : resolve())),
    );
    const bus = new MotorBus(port, options);
    try {
      await bus.#dropStale(options.settleMs ?? 10);
    } catch (e) {
      await bus.close();
      throw e;
    }
    return bus;
  }

  /** Takes ownership of an open port: `close()` closes it. */
  constructor(port: SerialPortStream, options: MotorBusOptions<V>) {
    this.vendor = options.vendor;
    this.path = port.path;
    this.#port = port;
    this.#codec = codecFor(options.vendor);
    this.#reader = this.#codec.createReader();
    this.#models = options.models ?? {};
    const fallback = options.defaultModel ?? (options.vendor === 'feetech' ? 'sts3215' : 'xl330-m288');
    this.#defaultModel = SERVO_MODELS[fallback];
    if (this.#defaultModel.vendor !== options.vendor) {
      throw new InvalidArgumentError(`default model ${fallback} is not a ${options.vendor} servo`);
    }
    for (const [id, m] of Object.entries(this.#models)) {
      if (!isServoModelName(m) || SERVO_MODELS[m].vendor !== options.vendor) {
        throw new InvalidArgumentError(`servo ${id}: model ${m} is not a known ${options.vendor} servo`);
      }
    }
    this.#timeoutMs = options.timeoutMs ?? 50;
    this.#retries = options.retries ?? 2;
    this.#baud = options.baud;
    port.on('data', (chunk: Buffer) => this.#onData(chunk));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      const reason = err?.disconnected ? 'disconnected' : 'closed';
      this.#markClosed(new PortClosedError(this.path, reason, err ? { cause: err } : undefined));
    });
    // Write errors also arrive as 'close' (disconnect) or reject the pending transaction via close.
    port.on('error', (err: Error) => this.#markClosed(new PortClosedError(this.path, 'disconnected', { cause: err })));
  }

  get baud(): number {
    return this.#baud;
  }

  get isOpen(): boolean {
    return this.#closed === undefined;
  }

  /** Framer counters: garbage bytes, checksum errors, packets. */
  get framerStats() {
    return this.#reader.stats;
  }

  modelOf(id: number): ServoModel {
    const name = this.#models[id];
    return name ? SERVO_MODELS[name] : this.#defaultModel;
  }

  servoHealth(id: number): ServoHealth {
    let h = this.health.servos.get(id);
    if (!h) {
      h = newServoHealth();
      this.health.servos.set(id, h);
    }
    return h;
  }

  /** Flushes the input, lets a stale exchange end, and forgets what arrived (counted as stray packets). */
  async #dropStale(settleMs: number): Promise<void> {
    await this.#mutex.run(async () => {
      await new Promise<void>((resolve, reject) => this.#port.flush((err) => (err ? reject(new PortOpenError(this.path, { cause: err })) : resolve())));
      if (settleMs > 0) await sleep(settleMs);
      this.#reader.reset();
    });
  }

  /** Changes the line rate (e.g. while scanning). */
  async setBaud(baud: number): Promise<void> {
    await this.#mutex.run(async () => {
      this.#assertOpen();
      await new Promise<void>((resolve, reject) => this.#port.update({ baudRate: baud }, (err) => (err ? reject(err) : resolve())));
      this.#baud = baud;
      this.#reader.reset();
    });
  }

  /** Pings one servo and identifies it (Feetech: Ping, then Read of Model_Number and firmware, like the SDK). */
  async ping(id: number, call?: CallOptions): Promise<PingResult> {
    const [status] = await this.#request(this.#codec.ping(id), [id], this.#codec.vendor === 'dynamixel' ? 3 : 0, call);
    if (this.vendor === 'dynamixel') {
      const p = status!.params;
      const modelNumber = (p[0] ?? 0) | ((p[1] ?? 0) << 8);
      return { id, modelNumber, model: modelName(this.vendor, modelNumber), firmware: String(p[2] ?? '?') };
    }
    const info = await this.readRaw(id, 0, 5, call);
    const modelNumber = info[3]! | (info[4]! << 8);
    return { id, modelNumber, model: modelName(this.vendor, modelNumber), firmware: `${info[0]}.${info[1]}` };
  }

  /** Broadcast ping: every servo answers in turn; collects answers for `windowMs`. Returns ids found. */
  async broadcastPing(windowMs = 30): Promise<number[]> {
    return this.#mutex.run(async () => {
      this.#assertOpen();
      const frames = await this.#attempt(this.#codec.ping(this.#codec.broadcastId), [], 0, windowMs, true);
      return [...new Set(frames.map((f) => f.id))].sort((a, b) => a - b);
    });
  }

  async read(id: number, register: RegisterOf<V>, call?: CallOptions): Promise<number> {
    const spec = this.#spec(id, register);
    const data = await this.readRaw(id, spec.address, spec.size, call);
    return decodeRegister(spec, data, 0, this.modelOf(id).endianness);
  }

  async write(id: number, register: RegisterOf<V>, value: number, call?: CallOptions): Promise<void> {
    const spec = this.#spec(id, register);
    const data = this.#encode(id, register, spec, value);
    await this.writeRaw(id, spec.address, data, call);
  }

  async readRaw(id: number, address: number, length: number, call?: CallOptions): Promise<Uint8Array> {
    const [status] = await this.#request(this.#codec.read(id, address, length), [id], length, call);
    if (status!.params.length < length) {
      throw new ServoStatusError(id, status!.error, [`short reply: ${status!.params.length} of ${length} bytes`], undefined, false);
    }
    return status!.params.subarray(0, length);
  }

  /** Write with a status reply (errors surface); to the broadcast id nobody replies. */
  async writeRaw(id: number, address: number, data: ArrayLike<number>, call?: CallOptions): Promise<void> {
    const tx = this.#codec.write(id, address, data);
    if (id === this.#codec.broadcastId) await this.#send(tx);
    else await this.#request(tx, [id], 0, call);
  }

  /** Reads one register from many servos in one instruction; values in the order of `ids`. */
  async syncRead(register: RegisterOf<V>, ids: readonly number[], call?: CallOptions): Promise<number[]> {
    if (ids.length === 0) return [];
    const spec = this.#commonSpec(register, ids);
    const frames = await this.#request(this.#codec.syncRead(spec.address, spec.size, ids), ids, spec.size, call);
    return frames.map((f, i) => {
      if (f.params.length < spec.size) throw new ServoStatusError(ids[i]!, f.error, [`short reply: ${f.params.length} of ${spec.size} bytes`], undefined, false);
      return decodeRegister(spec, f.params, 0, this.modelOf(ids[i]!).endianness);
    });
  }

  /** Writes one register on many servos in one instruction (no replies: nothing can be retried). */
  async syncWrite(register: RegisterOf<V>, values: Iterable<readonly [id: number, value: number]>): Promise<void> {
    const entries = [...values];
    if (entries.length === 0) return;
    const spec = this.#commonSpec(register, entries.map(([id]) => id));
    const tx = this.#codec.syncWrite(
      spec.address,
      spec.size,
      entries.map(([id, value]) => ({ id, data: this.#encode(id, register, spec, value) })),
    );
    await this.#send(tx);
  }

  /** Releases the port. Idempotent; pending transactions fail with PortClosedError. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#markClosed(new PortClosedError(this.path, 'closed'));
      if (this.#port.isOpen) {
        await new Promise<void>((resolve) => this.#port.close(() => resolve()));
      }
      this.#port.removeAllListeners();
      // A write queued before the close may still fail: swallow it rather than crash the process.
      this.#port.on('error', () => undefined);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ----

  #spec(id: number, register: string): RegisterSpec {
    const model = this.modelOf(id);
    const spec = (model.table as Partial<Record<string, RegisterSpec>>)[register];
    if (!spec) throw new UnknownRegisterError(register, model.name, id);
    return spec;
  }

  #commonSpec(register: string, ids: readonly number[]): RegisterSpec {
    const first = this.#spec(ids[0]!, register);
    for (const id of ids) {
      const s = this.#spec(id, register);
      if (s.address !== first.address || s.size !== first.size) {
        throw new InvalidArgumentError(`register ${register} sits at different addresses on the servos ${ids.join(', ')}: read them one by one`);
      }
    }
    return first;
  }

  #encode(id: number, register: string, spec: RegisterSpec, value: number): Uint8Array {
    const out = new Uint8Array(spec.size);
    try {
      encodeRegister(spec, value, out, 0, this.modelOf(id).endianness);
    } catch (e) {
      throw new RegisterValueError(register, value, { cause: e });
    }
    return out;
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closed;
  }

  async #send(tx: Uint8Array): Promise<void> {
    await this.#mutex.run(async () => {
      this.#assertOpen();
      this.#write(tx);
    });
  }

  #write(tx: Uint8Array): void {
    this.#lastTx = tx;
    this.#port.write(Buffer.from(tx.buffer, tx.byteOffset, tx.length));
  }

  /** A request with replies from `ids` (in order), retried on timeouts and corrupted replies. */
  async #request(tx: Uint8Array, ids: readonly number[], dataBytes: number, call?: CallOptions): Promise<Frame[]> {
    return this.#mutex.run(async () => {
      const expectedBytes = ids.length * this.#codec.statusSize(dataBytes);
      const attempts = (call?.retries ?? this.#retries) + 1;
      const timeoutMs = call?.timeoutMs ?? this.#timeoutMs;
      for (let attempt = 1; ; attempt++) {
        this.#assertOpen();
        for (const id of ids) this.servoHealth(id).transactions++;
        try {
          const frames = await this.#attempt(tx, ids, expectedBytes, timeoutMs, false, call?.beforeLastReply);
          this.#checkStatus(ids, frames);
          for (const id of ids) this.servoHealth(id).ok++;
          return frames;
        } catch (e) {
          const retryable = e instanceof ServoTimeoutError || e instanceof ChecksumError;
          if (!retryable) throw e;
          const id = e.servoId;
          if (e instanceof ServoTimeoutError) this.servoHealth(id).timeouts++;
          else this.servoHealth(id).checksumErrors++;
          if (attempt >= attempts) {
            throw e instanceof ServoTimeoutError
              ? new ServoTimeoutError(id, e.waitedMs, { attempts, cause: e.cause })
              : new ChecksumError(id, { attempts, cause: e });
          }
          this.servoHealth(id).retries++;
          // Let the rest of a broken exchange pass, then forget it, so it cannot answer the retry.
          await sleep(Math.ceil((expectedBytes * byteTimeUs(this.#baud)) / 1000) + 2);
          this.#reader.reset();
        }
      }
    });
  }

  #checkStatus(ids: readonly number[], frames: Frame[]): void {
    frames.forEach((f, i) => {
      if (f.error !== 0) {
        this.servoHealth(ids[i]!).statusErrors++;
        throw new ServoStatusError(ids[i]!, f.error, this.#codec.describeError(f.error), f.params, this.#codec.isHardwareError(f.error));
      }
    });
  }

  /** One exchange: send, then wait for the replies of `ids` in order (or collect all until the timeout). */
  #attempt(tx: Uint8Array, ids: readonly number[], expectedBytes: number, timeoutMs: number, collectAll: boolean, beforeLastReply?: () => void): Promise<Frame[]> {
    return new Promise<Frame[]>((resolve, reject) => {
      const wireMs = ((tx.length + expectedBytes) * byteTimeUs(this.#baud)) / 1000;
      const t: Transaction = {
        ids,
        replies: [],
        collectAll,
        expectedBytes,
        checksumBase: this.#reader.stats.checksumErrors,
        corruptedId: -1,
        resolve,
        reject,
        timer: undefined,
        startedUs: nowUs(),
        beforeLastReply: ids.length > 1 ? beforeLastReply : undefined,
      };
      this.#active = t;
      t.timer = setTimeout(() => this.#onTimeout(t), wireMs + timeoutMs);
      this.#write(tx);
    });
  }

  #finish(t: Transaction, error?: Error): void {
    if (this.#active !== t) return;
    this.#active = undefined;
    if (t.timer) clearTimeout(t.timer);
    if (error) t.reject(error);
    else t.resolve(t.replies);
  }

  #onTimeout(t: Transaction): void {
    if (this.#active !== t) return;
    // The line went quiet: a reply stuck behind a cut-off packet can still be found.
    for (const f of this.#reader.drain()) this.#accept(t, f);
    if (this.#active !== t) return;
    if (t.collectAll) return this.#finish(t);
    const missing = t.ids[t.replies.length]!;
    const waitedMs = (nowUs() - t.startedUs) / 1000;
    if (this.#reader.stats.checksumErrors !== t.checksumBase && (t.corruptedId === missing || t.corruptedId === -1)) {
      return this.#finish(t, new ChecksumError(missing));
    }
    this.#finish(t, new ServoTimeoutError(missing, waitedMs));
  }

  #onData(chunk: Buffer): void {
    this.#reader.append(chunk);
    const t = this.#active;
    for (let f = this.#reader.next(); f; f = this.#reader.next()) {
      if (t && this.#active === t) this.#accept(t, f);
      else this.#stray(f);
    }
    if (t && this.#active === t && t.beforeLastReply && t.replies.length === t.ids.length - 1) {
      const hook = t.beforeLastReply;
      t.beforeLastReply = undefined;
      hook();
    }
    if (t && this.#active === t && this.#reader.stats.checksumErrors !== t.checksumBase) {
      t.corruptedId = this.#reader.lastChecksumErrorId;
      // The reply we wait for arrived corrupted: no need to wait for the timeout.
      if (!t.collectAll && t.corruptedId === t.ids[t.replies.length]) this.#finish(t, new ChecksumError(t.corruptedId));
    }
  }

  #accept(t: Transaction, f: Frame): void {
    if (!f.isStatus || (this.#lastTx && bytesEqual(f.raw, this.#lastTx))) {
      this.health.echoes++;
      return;
    }
    if (t.collectAll) {
      t.replies.push(f);
      return;
    }
    if (f.id !== t.ids[t.replies.length]) return this.#stray(f);
    t.replies.push(f);
    if (t.replies.length === t.ids.length) this.#finish(t);
  }

  #stray(f: Frame): void {
    if (!f.isStatus || (this.#lastTx && bytesEqual(f.raw, this.#lastTx))) this.health.echoes++;
    else this.health.strayPackets++;
  }

  #markClosed(error: PortClosedError): void {
    if (this.#closed && !(this.#closed.reason === 'closed' && error.reason === 'disconnected')) return;
    if (!this.#closed) this.#closed = error;
    const t = this.#active;
    if (t) this.#finish(t, error);
  }
}

function modelName(vendor: Vendor, modelNumber: number): ServoModelName | undefined {
  const entry = (Object.entries(SERVO_MODELS) as [ServoModelName, ServoModel][]).find(
    ([, m]) => m.vendor === vendor && m.modelNumber === modelNumber,
  );
  return entry?.[0];
}
