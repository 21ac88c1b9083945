/** Time source for the simulator, in microseconds on a monotonic scale. Injected so tests can step time. */
export interface SimClock {
  nowUs(): number;
}

export const realClock: SimClock = { nowUs: () => performance.now() * 1000 };

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
