/** Per-servo and per-bus counters: what a long run's bus quality was, for logs and `inspect`. */
export interface ServoHealth {
  transactions: number;
  ok: number;
  timeouts: number;
  checksumErrors: number;
  statusErrors: number;
  retries: number;
}

export interface BusHealth {
  readonly servos: Map<number, ServoHealth>;
  /** Valid packets that no transaction expected (late replies, foreign traffic). */
  strayPackets: number;
  /** Our own requests read back on a half-duplex adapter without echo cancelling. */
  echoes: number;
}

export function newServoHealth(): ServoHealth {
  return { transactions: 0, ok: 0, timeouts: 0, checksumErrors: 0, statusErrors: 0, retries: 0 };
}
