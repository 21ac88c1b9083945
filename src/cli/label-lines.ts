/**
 * Episode labels typed as lines when the input is not a terminal (a pipe, a script, a harness):
 * `s` / `success`, `f` / `failure`, or a number (a score), one line per episode. A terminal uses
 * single keys instead (keys.ts). When the input ends, every later label is unlabelled.
 */
import { createInterface, type Interface } from 'node:readline';
import type { EpisodeLabel } from '../record/record-log.ts';

export class LabelLines {
  readonly #rl: Interface;
  readonly #lines: string[] = [];
  #ended = false;
  #waiter: (() => void) | undefined;

  constructor(input: NodeJS.ReadableStream) {
    this.#rl = createInterface({ input, terminal: false });
    this.#rl.on('line', (l) => {
      this.#lines.push(l.trim());
      this.#waiter?.();
    });
    this.#rl.on('close', () => {
      this.#ended = true;
      this.#waiter?.();
    });
  }

  /** The next label typed (lines that are none are skipped); undefined once the input has ended or `signal` aborts. */
  async next(signal?: AbortSignal): Promise<EpisodeLabel | undefined> {
    for (;;) {
      while (this.#lines.length) {
        const l = parseLabel(this.#lines.shift()!);
        if (l) return l;
      }
      if (this.#ended || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#waiter = undefined;
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.#waiter = done;
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  close(): void {
    this.#rl.close();
  }
}

export function parseLabel(line: string): EpisodeLabel | undefined {
  const t = line.trim().toLowerCase();
  if (t === 's' || t === 'success') return { outcome: 'success' };
  if (t === 'f' || t === 'failure') return { outcome: 'failure' };
  const x = Number(t);
  return t !== '' && Number.isFinite(x) ? { outcome: 'score', score: x } : undefined;
}
