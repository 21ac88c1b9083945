/** Time source for the simulator, in microseconds on a monotonic scale. Injected so tests can step time. */
export interface SimClock {
  nowUs(): number;
  /** The clock moves by itself (wall time): a scheduler may busy-wait on it. */
  readonly realTime?: boolean;
}

export const realClock: SimClock = { nowUs: () => performance.now() * 1000, realTime: true };

/** A clock that only moves when told to (for dynamics tests). */
export class ManualClock implements SimClock {
  #t = 0;
  nowUs(): number {
    return this.#t;
  }
  advanceMs(ms: number): void {
    this.#t += ms * 1000;
  }
}
