/**
 * Enter presses read from a command's input, one at a time, for prompts that wait for a person
 * ("move the arm …, then press Enter"). One reader for the whole command, so Enters piped ahead
 * (`printf '\n\n' | armbridge calibrate …`) are all kept; when the input ends (a closed pipe,
 * `</dev/null`, Ctrl-D) a waiting or later prompt fails with StdinClosedError instead of waiting forever.
 */
import { createInterface, type Interface } from 'node:readline';
import { ArmbridgeError } from '../errors.ts';

export class StdinClosedError extends ArmbridgeError {
  constructor(readonly waitingFor: string, readonly consequence: string) {
    super(
      'STDIN_CLOSED',
      `stdin closed before Enter (${waitingFor}): run the command in a terminal, or pipe one Enter per step after the moves, ` +
        `e.g. (sleep 5; echo; sleep 20; echo) | armbridge calibrate …; ${consequence}`,
    );
  }
}

export class PromptInterruptedError extends ArmbridgeError {
  constructor(readonly waitingFor: string, readonly consequence: string) {
    super('INTERRUPTED', `interrupted before Enter (${waitingFor}); ${consequence}`);
  }
}

export class EnterKey {
  readonly #rl: Interface;
  #pressed = 0;
  #ended = false;
  #waiter: { resolve: () => void; reject: (e: Error) => void; onEnd: () => Error } | undefined;

  constructor(input: NodeJS.ReadableStream) {
    this.#rl = createInterface({ input, terminal: false });
    this.#rl.on('line', () => {
      this.#pressed++;
      this.#wake();
    });
    this.#rl.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  /**
   * Resolves at the next Enter (or at once for one already typed); rejects with `onEnd()` once the
   * input has ended, or with `onAbort()` when `signal` aborts (Ctrl-C, SIGTERM) first.
   */
  next(onEnd: () => Error, signal?: AbortSignal, onAbort: () => Error = onEnd): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abort = () => {
        if (this.#waiter !== waiter) return;
        this.#waiter = undefined;
        reject(onAbort());
      };
      const waiter = {
        resolve: () => (signal?.removeEventListener('abort', abort), resolve()),
        reject: (e: Error) => (signal?.removeEventListener('abort', abort), reject(e)),
        onEnd,
      };
      this.#waiter = waiter;
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.#wake();
    });
  }

  /** Stops reading (the input is released, not closed). Idempotent. */
  close(): void {
    this.#rl.close();
  }

  #wake(): void {
    const w = this.#waiter;
    if (!w) return;
    if (this.#pressed > 0) {
      this.#pressed--;
      this.#waiter = undefined;
      w.resolve();
    } else if (this.#ended) {
      this.#waiter = undefined;
      w.reject(w.onEnd());
    }
  }
}
