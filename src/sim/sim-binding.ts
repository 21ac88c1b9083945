/**
 * The simulator as a serialport binding (the `@serialport/bindings-interface` contract), so the
 * driver stack above it is byte-for-byte the one that runs on /dev/ttyACM0:
 *
 *   const binding = new SimBinding();
 *   binding.register('/sim/so101-follower', createSimArm({ arm: 'so101', role: 'follower' }));
 *   const port = new SerialPortStream({ binding, path: '/sim/so101-follower', baudRate: 1_000_000 });
 *
 * Each SimBinding has its own registry (no module-global state), so tests can run in parallel.
 */
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface';
import type { SimBus, SimHost } from './sim-bus.ts';

class BindingError extends Error {
  constructor(
    message: string,
    readonly canceled = false,
    readonly disconnected = false,
  ) {
    super(message);
  }
}

interface PendingRead {
  buffer: Buffer;
  offset: number;
  length: number;
  resolve: (r: { buffer: Buffer; bytesRead: number }) => void;
  reject: (e: Error) => void;
}

export class SimPortBinding implements BindingPortInterface, SimHost {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  readonly #bus: SimBus;
  readonly #rx: Uint8Array[] = [];
  #pending: PendingRead | undefined;
  #baud: number;
  #unplugged = false;

  constructor(bus: SimBus, options: Required<OpenOptions>) {
    this.#bus = bus;
    this.openOptions = options;
    this.#baud = options.baudRate;
    bus.attach(this);
  }

  deliver(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.#rx.push(bytes);
    this.#serve();
  }

  disconnect(): void {
    this.#unplugged = true;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(new BindingError('simulated cable unplugged', false, true));
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    this.isOpen = false;
    this.#bus.detach(this);
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(new BindingError('Port is closed', true));
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) return Promise.reject(new BindingError('Port is not open', true));
    if (this.#unplugged) return Promise.reject(new BindingError('simulated cable unplugged', false, true));
    if (this.#pending) return Promise.reject(new BindingError('a read is already pending'));
    return new Promise((resolve, reject) => {
      this.#pending = { buffer, offset, length, resolve, reject };
      this.#serve();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open', true);
    if (this.#unplugged) throw new BindingError('simulated cable unplugged', false, true);
    this.#bus.hostWrite(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length), this.#baud);
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new BindingError(`invalid baud rate ${options.baudRate}`);
    this.#baud = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open');
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    return { baudRate: this.#baud };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    this.#rx.length = 0;
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new BindingError('Port is not open');
    const waitUs = this.#bus.lineFreeAtUs - this.#bus.clock.nowUs();
    if (waitUs > 0) await new Promise((r) => setTimeout(r, Math.ceil(waitUs / 1000)));
  }

  #serve(): void {
    const p = this.#pending;
    if (!p || this.#rx.length === 0) return;
    let n = 0;
    while (this.#rx.length > 0 && n < p.length) {
      const chunk = this.#rx[0]!;
      const take = Math.min(chunk.length, p.length - n);
      p.buffer.set(chunk.subarray(0, take), p.offset + n);
      n += take;
      if (take === chunk.length) this.#rx.shift();
      else this.#rx[0] = chunk.subarray(take);
    }
    this.#pending = undefined;
    p.resolve({ buffer: p.buffer, bytesRead: n });
  }
}

export class SimBinding implements BindingInterface<SimPortBinding> {
  readonly #buses = new Map<string, SimBus>();
  readonly #open = new Set<string>();

  /** Makes `bus` reachable at `path`. */
  register(path: string, bus: SimBus): void {
    if (this.#buses.has(path)) throw new Error(`a simulated bus is already registered at ${path}`);
    this.#buses.set(path, bus);
  }

  unregister(path: string): void {
    this.#buses.delete(path);
  }

  async list(): Promise<PortInfo[]> {
    return [...this.#buses.keys()].map((path) => ({
      path,
      manufacturer: 'armbridge simulator',
      serialNumber: undefined,
      pnpId: undefined,
      locationId: undefined,
      productId: undefined,
      vendorId: undefined,
    }));
  }

  async open(options: OpenOptions): Promise<SimPortBinding> {
    const bus = this.#buses.get(options.path);
    if (!bus) throw new BindingError(`Error: No such file or directory, cannot open ${options.path}`);
    if (bus.disconnected) throw new BindingError(`Error: No such file or directory, cannot open ${options.path} (unplugged)`);
    if (this.#open.has(options.path)) throw new BindingError(`Error Resource temporarily unavailable Cannot lock port ${options.path}`);
    const full: Required<OpenOptions> = {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    };
    const port = new SimPortBinding(bus, full);
    this.#open.add(options.path);
    const close = port.close.bind(port);
    port.close = async () => {
      this.#open.delete(options.path);
      await close();
    };
    return port;
  }
}
