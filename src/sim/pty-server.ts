/**
 * Serves a simulated bus on a real pseudo-terminal, so any program that opens serial ports (our
 * CLI, LeRobot, the vendor SDKs, minicom) can talk to it: socat creates a linked pair of ptys, the
 * user's side appears at `link`, and we serve the other side through the OS serial binding.
 *
 * A pty carries no baud rate, so the simulated servos take the host's rate to match theirs
 * (scanning finds the bus at whatever rate is tried first); wire time is still modelled at the
 * servos' own rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingInterface, BindingPortInterface } from '@serialport/bindings-interface';
import { ArmbridgeError } from '../errors.ts';
import type { SimBus, SimHost } from './sim-bus.ts';

export class SocatMissingError extends ArmbridgeError {
  constructor(options?: ErrorOptions) {
    super('SOCAT_MISSING', 'socat is not installed, so no pty can be made: install it (apt-get install socat) or use the in-process simulator', options);
  }
}

export class PtyStartError extends ArmbridgeError {
  constructor(link: string, detail: string, options?: ErrorOptions) {
    super('PTY_START_FAILED', `could not create the simulated serial port at ${link}: ${detail}`, options);
  }
}

export interface PtySimServerOptions {
  readonly bus: SimBus;
  /** Where the user-facing end of the pty appears (a symlink), e.g. /tmp/so101-follower. */
  readonly link: string;
  readonly socat?: string;
  readonly startTimeoutMs?: number;
  /** How to open our end of the pty; default the OS binding (@serialport/bindings-cpp: main thread only). */
  readonly binding?: BindingInterface;
}

export class PtySimServer {
  readonly link: string;
  readonly #bus: SimBus;
  readonly #socat: ChildProcess;
  readonly #dir: string;
  readonly #port: BindingPortInterface;
  readonly #host: SimHost;
  #writeChain: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #readLoop: Promise<void> = Promise.resolve();

  private constructor(link: string, bus: SimBus, socat: ChildProcess, dir: string, port: BindingPortInterface) {
    this.link = link;
    this.#bus = bus;
    this.#socat = socat;
    this.#dir = dir;
    this.#port = port;
    this.#host = {
      deliver: (bytes) => {
        const copy = Buffer.from(bytes);
        this.#writeChain = this.#writeChain.then(() => this.#port.write(copy)).catch(() => undefined);
      },
      disconnect: () => void this.close(),
    };
    bus.attach(this.#host);
    this.#readLoop = this.#serve();
  }

  static async start(options: PtySimServerOptions): Promise<PtySimServer> {
    const dir = await mkdtemp(join(tmpdir(), 'armbridge-pty-'));
    const inner = join(dir, 'sim');
    const stale = await lstat(options.link).catch(() => undefined);
    if (stale?.isSymbolicLink()) await unlink(options.link);
    else if (stale) throw new PtyStartError(options.link, 'a file that is not a symlink is in the way');

    const socat = spawn(options.socat ?? 'socat', ['-d', '-d', `pty,raw,echo=0,link=${options.link}`, `pty,raw,echo=0,link=${inner}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new PtyStartError(options.link, `socat did not start within ${options.startTimeoutMs ?? 5000} ms: ${log.trim()}`)), options.startTimeoutMs ?? 5000);
        socat.once('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(e.code === 'ENOENT' ? new SocatMissingError({ cause: e }) : new PtyStartError(options.link, e.message, { cause: e }));
        });
        socat.once('exit', (code) => {
          clearTimeout(timer);
          reject(new PtyStartError(options.link, `socat exited with ${code}: ${log.trim()}`));
        });
        socat.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('starting data transfer loop')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      socat.removeAllListeners('exit');
      socat.stderr!.removeAllListeners('data');
      socat.stderr!.resume();
      const binding = options.binding ?? (await import('@serialport/bindings-cpp')).autoDetect();
      const port = await binding.open({ path: inner, baudRate: 1_000_000 });
      return new PtySimServer(options.link, options.bus, socat, dir, port);
    } catch (e) {
      socat.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async #serve(): Promise<void> {
    const buf = Buffer.alloc(4096);
    for (;;) {
      try {
        const { bytesRead } = await this.#port.read(buf, 0, buf.length);
        if (bytesRead > 0) this.#bus.hostWrite(buf.subarray(0, bytesRead), 'match');
      } catch {
        return; // closed or the other end went away
      }
    }
  }

  /** Stops serving: closes our end, ends socat (the link disappears), detaches from the bus. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#bus.detach(this.#host);
      try {
        if (this.#port.isOpen) await this.#port.close();
      } catch {
        // already closed
      }
      await this.#readLoop;
      if (this.#socat.exitCode === null && this.#socat.signalCode === null) {
        const exited = new Promise((r) => this.#socat.once('exit', r));
        this.#socat.kill('SIGTERM');
        await exited;
      }
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
