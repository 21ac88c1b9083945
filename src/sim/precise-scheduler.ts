/**
 * Runs callbacks at absolute times with sub-millisecond accuracy: a timer for the coarse part of the
 * wait, then `setImmediate` polling for the last ~2 ms (timers alone are late by ~1 ms, which would
 * hide the wire timing the simulator models). Tasks due at the same time run in insertion order.
 * One scheduler per simulated bus; `close()` cancels everything and releases the timers.
 */
import type { SimClock } from './clock.ts';

interface Task {
  readonly atUs: number;
  readonly seq: number;
  readonly run: () => void;
}

const SPIN_WINDOW_US = 2000;

export class PreciseScheduler {
  readonly #clock: SimClock;
  #tasks: Task[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(clock: SimClock) {
    this.#clock = clock;
  }

  at(atUs: number, run: () => void): void {
    if (this.#closed) return;
    const task = { atUs, seq: this.#seq++, run };
    // Insert keeping the list sorted by time, then sequence (lists are short: a handful of replies).
    let i = this.#tasks.length;
    while (i > 0 && this.#tasks[i - 1]!.atUs > atUs) i--;
    this.#tasks.splice(i, 0, task);
    this.#arm();
  }

  get pending(): number {
    return this.#tasks.length;
  }

  close(): void {
    this.#closed = true;
    this.#tasks = [];
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #arm(): void {
    this.#disarm();
    const first = this.#tasks[0];
    if (!first) return;
    const waitUs = first.atUs - this.#clock.nowUs();
    if (waitUs > SPIN_WINDOW_US) {
      this.#timer = setTimeout(() => this.#tick(), Math.floor((waitUs - SPIN_WINDOW_US / 2) / 1000));
    } else {
      this.#immediate = setImmediate(() => this.#tick());
    }
  }

  #tick(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    const now = this.#clock.nowUs();
    while (this.#tasks.length > 0 && this.#tasks[0]!.atUs <= now) {
      const task = this.#tasks.shift()!;
      task.run();
      if (this.#closed) return;
    }
    this.#arm();
  }
}
