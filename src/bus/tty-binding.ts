/**
 * A serial-port binding (the `@serialport/bindings-interface` contract) on Node's own tty handles,
 * for Linux. Unlike @serialport/bindings-cpp, whose poller calls into V8 from the wrong thread and
 * aborts the process when a port is read in a worker thread (node-serialport issues #1938, #2748),
 * it works in any thread: the deploy loop's worker uses it to own the follower's port.
 *
 * Reading: a `tty.ReadStream` in raw mode (libuv's tty handle: event-driven, no thread pool).
 * Writing: `writeSync` on the same descriptor — a servo packet is tens of bytes, which the kernel
 * copies into the tty's buffer at once; a full buffer (EAGAIN) is retried. Line settings (baud rate,
 * 8N1, raw, no flow control) are applied with util-linux/coreutils `stty`, since Node has no termios
 * API; Linux accepts the servo rates (57 600 … 4 000 000). Not done: exclusive locking (TIOCEXCL) and
 * modem-control lines (`set` is accepted and ignored, `get` reports the lines as asserted).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isatty, ReadStream } from 'node:tty';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-interface';

class TtyBindingError extends Error {
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

function configureLine(path: string, baudRate: number): void {
  try {
    execFileSync('stty', ['-F', path, String(baudRate), 'raw', '-echo', 'cs8', '-cstopb', '-parenb', '-crtscts', '-ixon', '-ixoff', 'clocal', 'cread'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    throw new TtyBindingError(`cannot set ${path} to ${baudRate} baud: ${why}`);
  }
}

export class TtyPort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  readonly #fd: number;
  readonly #stream: ReadStream;
  readonly #rx: Buffer[] = [];
  #pending: PendingRead | undefined;
  #failure: TtyBindingError | undefined;
  #baud: number;

  constructor(fd: number, options: Required<OpenOptions>) {
    this.#fd = fd;
    this.openOptions = options;
    this.#baud = options.baudRate;
    this.#stream = new ReadStream(fd);
    this.#stream.setRawMode(true);
    this.#stream.on('data', (chunk: Buffer) => {
      this.#rx.push(chunk);
      this.#serve();
    });
    // EIO when the device goes away (USB cable pulled); the port is dead from then on.
    this.#stream.on('error', (e: Error) => this.#fail(new TtyBindingError(`${options.path}: ${e.message}`, false, true)));
    this.#stream.on('end', () => this.#fail(new TtyBindingError(`${options.path}: the device closed`, false, true)));
  }

  #fail(e: TtyBindingError): void {
    if (!this.isOpen) return;
    this.#failure = e;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(e);
  }

  #serve(): void {
    const p = this.#pending;
    if (!p || this.#rx.length === 0) return;
    let n = 0;
    while (this.#rx.length > 0 && n < p.length) {
      const chunk = this.#rx[0]!;
      const take = Math.min(chunk.length, p.length - n);
      chunk.copy(p.buffer, p.offset + n, 0, take);
      n += take;
      if (take === chunk.length) this.#rx.shift();
      else this.#rx[0] = chunk.subarray(take);
    }
    this.#pending = undefined;
    p.resolve({ buffer: p.buffer, bytesRead: n });
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) return Promise.reject(new TtyBindingError('Port is not open', true));
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#pending) return Promise.reject(new TtyBindingError('a read is already pending'));
    return new Promise((resolve, reject) => {
      this.#pending = { buffer, offset, length, resolve, reject };
      this.#serve();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open', true);
    if (this.#failure) throw this.#failure;
    let off = 0;
    for (let tries = 0; off < buffer.length; ) {
      try {
        off += writeSync(this.#fd, buffer, off, buffer.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' || ++tries > 1000) {
          const err = new TtyBindingError(`${this.openOptions.path}: write failed (${(e as Error).message})`, false, code === 'EIO' || code === 'ENXIO' || code === 'ENODEV');
          if (err.disconnected) this.#fail(err);
          throw err;
        }
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
    configureLine(this.openOptions.path, options.baudRate);
    this.#baud = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
    return { baudRate: this.#baud };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
    this.#rx.length = 0;
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new TtyBindingError('Port is not open');
    this.isOpen = false;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(new TtyBindingError('Port is closed', true));
    // The stream owns the descriptor: destroying it closes the handle and the fd.
    await new Promise<void>((resolve) => {
      this.#stream.once('close', () => resolve());
      this.#stream.destroy();
    });
  }
}

export class TtyBinding implements BindingInterface<TtyPort> {
  async list(): Promise<PortInfo[]> {
    const names = await readdir('/dev').catch(() => [] as string[]);
    return names
      .filter((n) => /^tty(ACM|USB|AMA|S)\d+$/.test(n))
      .map((n) => ({ path: `/dev/${n}`, manufacturer: undefined, serialNumber: undefined, pnpId: undefined, locationId: undefined, productId: undefined, vendorId: undefined }));
  }

  async open(options: OpenOptions): Promise<TtyPort> {
    if (process.platform !== 'linux') throw new TtyBindingError(`the tty binding runs on Linux only (this is ${process.platform})`);
    const full: Required<OpenOptions> = { dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true, ...options };
    let fd: number;
    try {
      fd = openSync(options.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (e) {
      throw new TtyBindingError(`Error: ${(e as Error).message}, cannot open ${options.path}`);
    }
    try {
      if (!isatty(fd)) throw new TtyBindingError(`${options.path} is not a serial port (not a tty)`);
      configureLine(options.path, options.baudRate);
      return new TtyPort(fd, full);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
}
